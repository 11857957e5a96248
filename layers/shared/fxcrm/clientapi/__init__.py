"""The InstaForex-style Client and Partner API."""
