"""KYC status (read here; written by the KYC module).

KYC#<user id> / STATUS   kyc_status: filling | auditing | approved | disapproved
"""

from fxcrm.dal.table import Table


def get_kyc_status(user_id: int, table: Table | None = None) -> str:
    found = (table or Table()).get(f"KYC#{user_id}", "STATUS")
    return str(found["kyc_status"]) if found else "filling"
