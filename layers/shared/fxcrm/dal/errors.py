"""What the data-access layer raises, so no layer above it handles botocore's
errors. Each module's own refusals (`users.EmailTaken`, `ledger.AlreadyApplied`,
...) are `ConditionFailed`s."""


class DataError(Exception):
    """A storage operation was refused."""


class ConditionFailed(DataError):
    """A conditional write's condition did not hold: the item is not (or no
    longer) in the state the write required. Nothing was written."""
