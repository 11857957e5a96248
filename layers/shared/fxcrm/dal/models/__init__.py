"""Typed records the data-access layer stores and loads (the domain builds them)."""
