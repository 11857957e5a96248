"""The data-access layer answers a refused conditional write with its own
exception (`fxcrm.dal.errors.ConditionFailed`), never botocore's, so no domain
module handles AWS errors."""

import pytest
from botocore.exceptions import ClientError

from fxcrm.core import ids
from localcloud.provision import Stack


def test_a_kyc_status_change_from_a_status_it_is_not_in_raises_condition_failed(stack: Stack) -> None:
    from fxcrm.dal import kyc
    from fxcrm.dal.errors import ConditionFailed

    user_id = ids.new_id()
    with pytest.raises(ConditionFailed) as raised:
        kyc.change_status(user_id, "approved", ("pending",), 1_800_000_000, {"kyc_way": "manual"})
    assert not isinstance(raised.value, ClientError)
    assert kyc.get_status(user_id) is None  # nothing was written


def test_a_kyc_module_saved_after_approval_raises_condition_failed_and_keeps_the_module(stack: Stack) -> None:
    from fxcrm.dal import kyc
    from fxcrm.dal.errors import ConditionFailed

    user_id = ids.new_id()
    kyc.save_module(user_id, "identity", {"first_name": "Ana"}, ["identity"], 1_800_000_000)
    kyc.change_status(user_id, "approved", ("filling",), 1_800_000_001, {})
    with pytest.raises(ConditionFailed):
        kyc.save_module(user_id, "identity", {"first_name": "Eve"}, ["identity"], 1_800_000_002)
    assert kyc.get_module(user_id, "identity") == {"first_name": "Ana"}


def test_each_module_s_own_refusals_are_condition_failures() -> None:
    from fxcrm.dal import approvals, client_api, funding, kyc, ledger, trading, users
    from fxcrm.dal.errors import ConditionFailed

    for refusal in (
        approvals.StatusChanged,
        client_api.LoginTaken,
        funding.StatusChanged,
        kyc.AttemptsExhausted,
        ledger.AlreadyApplied,
        ledger.InsufficientFunds,
        trading.OperationExists,
        trading.InsufficientBalance,
        users.EmailTaken,
        users.ConcurrentChange,
    ):
        assert issubclass(refusal, ConditionFailed), refusal


def test_a_status_change_moves_only_from_the_status_it_names(stack: Stack) -> None:
    from fxcrm.dal.table import Table, is_condition_failure, status_change

    table = Table()
    key = {"pk": f"TEST#{ids.new_id()}", "sk": "ITEM"}
    table.put(key | {"status": "held"})
    change = status_change(table.name, key, "held", "granted", {"grant_at": 1_800_000_000, "granted_by": "ops"})
    table.client.transact_write_items(TransactItems=[change])
    assert table.get(key["pk"], "ITEM") == key | {"status": "granted", "grant_at": 1_800_000_000, "granted_by": "ops"}
    with pytest.raises(ClientError) as again:  # granted already: the second move is refused, nothing changes
        table.client.transact_write_items(TransactItems=[status_change(table.name, key, "held", "granted")])
    assert is_condition_failure(again.value)
