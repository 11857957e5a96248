"""KYC status (read here; written by the KYC module, and by the local demo seed).

KYC#<user id> / STATUS   kyc_status: filling | auditing | approved | disapproved
"""

from fxcrm.dal.table import Table


def get_kyc_status(user_id: int, table: Table | None = None) -> str:
    found = (table or Table()).get(f"KYC#{user_id}", "STATUS")
    return str(found["kyc_status"]) if found else "filling"


def set_kyc_status(user_id: int, status: str, now: int, table: Table | None = None) -> None:
    (table or Table()).put({"pk": f"KYC#{user_id}", "sk": "STATUS", "kyc_status": status, "updated_at": now})
