"""Crediting an audited deposit to its trading account, once: shared by the
approval flow (fxcrm.funding.deposits) and the payment provider's callback
(fxcrm.funding.online), so neither imports the other."""

from typing import Literal

from fxcrm import ledger
from fxcrm.core.money import show
from fxcrm.core.settings import Settings
from fxcrm.dal import funding as dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal.funding import StatusChanged
from fxcrm.funding import orders, reference
from fxcrm.funding.orders import DepositOrder

KIND: Literal["deposit"] = "deposit"
CURRENCY = reference.ACCOUNT_CURRENCY


def apply_credit(settings: Settings, order: DepositOrder, now: int, auditor: str) -> bool:
    """Credit an audited deposit: the platform and the ledger each once (by the
    order number), then approved. True for the call that approved it; a
    concurrent or repeated call finds it approved and does nothing more."""
    number = order.order_number
    account = trading_dal.get_trading_account(order.account_id)
    if account is None:
        raise orders.PlatformRefused("the trading account no longer exists")
    amount = order.amount
    try:
        dal.update_order(number, {"credit_started": True}, ("auditing",))  # before: see compensate
        orders.move_on_platform(settings, account, amount, f"dep-{number}")
        dal.update_order(number, {"credited_on_platform": True}, ("auditing",))
        legs = [
            ledger.Leg(ledger.external(KIND, order.method, CURRENCY), -amount),
            ledger.Leg(ledger.trading_account(int(account["id"])), amount),
        ]
        ledger.post(f"dep-{number}", KIND, number, CURRENCY, legs, now)
        dal.update_order(number, {"status": "approved", "decided_at": now, "auditor_name": auditor}, ("auditing",))
    except StatusChanged:
        if orders.reload(order).status == "approved":
            return False  # another call finished it
        raise
    credited = {"number": number, "amount": show(amount, CURRENCY), "currency": CURRENCY}
    orders.notify(settings, order, "deposit_credited", credited | {"account": order.account.account})
    return True
