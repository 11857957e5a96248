"""Funding: the ledger, deposits, withdrawals, transfers, channels and payment accounts."""
