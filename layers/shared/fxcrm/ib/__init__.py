"""The IB portal."""
