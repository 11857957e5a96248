"""IB rebates: the rules staff set, the IB tree as it was at any time, and
the scheduled settlement that turns closed trades into commission records
credited to IBs through the ledger."""
