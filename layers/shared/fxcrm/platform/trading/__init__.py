"""Adapters of the TradingPlatform port (`fxcrm.trading.platform`)."""
