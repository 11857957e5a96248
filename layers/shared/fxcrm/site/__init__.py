"""Broker-wide site settings: branding and the three portals' login pages."""
