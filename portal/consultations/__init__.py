"""Consultations: meetings of the body and bilateral consultations with a platform."""
