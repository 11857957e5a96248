"""Payment service provider items.

PSPEVENT#<provider>#<payment id> / <status>   a callback status of a payment, first arrival kept
                                               (a replay of the same payment and status finds it)
PSPISSUES#<yyyy-mm> / <at>#<id>                a callback that changed nothing: staff look at it
PSPLOCAL#<invoice id> / INVOICE                an invoice of the local stand-in provider
"""

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from fxcrm.dal.table import Item, Table, is_condition_failure


def record_event(provider: str, payment_id: str, status: str, item: Item, table: Table | None = None) -> bool:
    """True the first time this payment reports this status; False on a replay."""
    try:
        (table or Table()).put(
            {**item, "pk": f"PSPEVENT#{provider}#{payment_id}", "sk": status},
            condition="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def _month(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m")


def put_issue(issue: Item, table: Table | None = None) -> None:
    at = int(issue["at"])
    (table or Table()).put({**issue, "pk": f"PSPISSUES#{_month(at)}", "sk": f"{at:010d}#{issue['id']}"})


def list_issues(month: str, table: Table | None = None) -> list[Item]:
    """A month's (yyyy-mm) issues, newest first."""
    return (table or Table()).query("pk = :pk", {":pk": f"PSPISSUES#{month}"}, forward=False)


def put_local_invoice(invoice: Item, table: Table | None = None) -> None:
    (table or Table()).put(
        {**invoice, "pk": f"PSPLOCAL#{invoice['invoice_id']}", "sk": "INVOICE"}, condition="attribute_not_exists(pk)"
    )


def put_local_invoice_once(invoice: Item, table: Table | None = None) -> bool:
    """False if it exists already (the same payout asked for again)."""
    try:
        put_local_invoice(invoice, table)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def get_local_invoice(invoice_id: str, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"PSPLOCAL#{invoice_id}", "INVOICE")


def set_local_invoice_status(invoice_id: str, status: str, table: Table | None = None) -> None:
    (table or Table()).update(
        f"PSPLOCAL#{invoice_id}", "INVOICE", "SET #s = :s", {":s": status}, names={"#s": "status"}
    )
