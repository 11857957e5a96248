"""Adapters of the TradingPlatform port (`fxcrm.adapters.trading.port`)."""
