"""Reports (deposits, withdrawals, transfers, history orders, positions,
pending orders), scoped by the caller, and their CSV/XLSX exports."""
