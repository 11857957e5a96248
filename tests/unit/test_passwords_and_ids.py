import itertools

import pytest

from fxcrm.core import ids, passwords
from fxcrm.core.errors import InvalidInput


def test_hash_is_argon2id_with_owasp_parameters() -> None:
    hashed = passwords.hash_password("Secret-pass-1")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(hashed, "Secret-pass-1")
    assert not passwords.verify_password(hashed, "Secret-pass-2")
    assert not passwords.verify_password(None, "Secret-pass-1")
    assert not passwords.verify_password("not-a-hash", "Secret-pass-1")


@pytest.mark.parametrize("candidate", ["short1", "allletters", "12345678901", "x1" * 65])
def test_password_rule_names_the_field(candidate: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        passwords.check_rule(candidate, "new_password")
    assert raised.value.field == "new_password"


def test_ids_are_js_safe_strictly_increasing_and_unique_in_a_process() -> None:
    made = [ids.new_id() for _ in range(20000)]  # far more than 4096 per millisecond
    assert all(0 < i < 2**53 for i in made)
    assert all(a < b for a, b in itertools.pairwise(made))


def test_ids_are_unique_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        made = [i for chunk in pool.map(lambda _: [ids.new_id() for _ in range(2000)], range(8)) for i in chunk]
    assert len(set(made)) == len(made)
