"""Staff approvals: the shared machinery behind every item that waits for a decision."""
