"""Benchmarks of the request pages with a large database (see README.md). Not tests: figures to record."""
