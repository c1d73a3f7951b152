"""Mechanisms every domain uses: audit, policy, clock, database types, outbox, forms."""
