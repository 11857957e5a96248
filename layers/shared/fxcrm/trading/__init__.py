"""Trading accounts and the trading platform (MT4/MT5) they live on."""
