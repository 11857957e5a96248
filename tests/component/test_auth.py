"""Auth endpoints through the real handler on moto."""

import base64
import json
import sys
import time

import jwt
import pytest

from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.concurrency import SecretChecks
from tests.support.demo import ADMIN, CLIENT2, IB, SUPPORT
from tests.support.journeys import captcha_headers, last_code, login, register, sent_mail, staff_token, unique_email


def test_register_then_login_returns_token_and_user_info(api: ApiClient) -> None:
    email = unique_email("reg")
    registered = register(api, email)
    assert registered["user_info"]["email"] == email
    assert registered["user_info"]["user_type"] == "client"
    assert isinstance(registered["user_info"]["id"], int) and registered["user_info"]["id"] < 2**53

    reply = login(api, email.upper(), "Secret-pass-1")
    assert reply.status == 200
    assert set(reply.json()) == {"token", "user_info"}
    assert set(reply.json()["user_info"]) == {
        "email",
        "first_name",
        "full_name",
        "id",
        "last_name",
        "user_type",
        "must_change_password",
    }
    assert reply.json()["user_info"]["must_change_password"] is False  # only a bootstrap admin's one-time password


def test_register_with_an_ib_invite_code_attributes_the_client(api: ApiClient) -> None:
    from fxcrm.dal.users import find_ib_by_referral_code, get_user

    registered = register(api, unique_email("invited"), invite_code="DEMOIB")
    stored = get_user(registered["user_info"]["id"])
    assert stored is not None and stored["ib_id"] == find_ib_by_referral_code("DEMOIB")


def test_register_refuses_unknown_invite_code_wrong_code_and_taken_email(api: ApiClient) -> None:
    email = unique_email("bad")
    api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "register"})
    code = last_code(email)
    unknown = api.post(
        "/auth/register", {"email": email, "email_code": code, "password": "Secret-pass-1", "invite_code": "NOSUCH"}
    )
    assert unknown.status == 422 and unknown.json()["field"] == "invite_code"

    wrong = "000000" if code != "000000" else "111111"
    bad_code = api.post("/auth/register", {"email": email, "email_code": wrong, "password": "Secret-pass-1"})
    assert bad_code.status == 422 and bad_code.json() == {
        "code": "code_invalid",
        "message": "the code is wrong",
        "field": "email_code",
    }

    weak = api.post("/auth/register", {"email": email, "email_code": code, "password": "onlyletters"})
    assert weak.status == 422 and weak.json()["field"] == "password"

    ok = api.post("/auth/register", {"email": email, "email_code": code, "password": "Secret-pass-1"})
    assert ok.status == 201
    again = api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "register"})
    assert again.status == 409 and again.json()["field"] == "email"


def test_email_code_is_single_use(api: ApiClient) -> None:
    email = unique_email("once")
    api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "register"})
    body = {"email": email, "email_code": last_code(email), "password": "Secret-pass-1"}
    assert api.post("/auth/register", body).status == 201
    assert api.post("/auth/register", body).status == 409  # the email is taken now
    from fxcrm.dal.email_codes import get_code

    assert get_code("register", email) is None


def test_email_code_attempts_are_limited(api: ApiClient) -> None:
    email = unique_email("guess")
    api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "register"})
    code = last_code(email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert (
            api.post("/auth/register", {"email": email, "email_code": wrong, "password": "Secret-pass-1"}).status == 422
        )
    right = api.post("/auth/register", {"email": email, "email_code": code, "password": "Secret-pass-1"})
    assert right.status == 422 and right.json()["code"] == "code_attempts_exceeded"


@pytest.mark.usefixtures("frozen_clock")
def test_concurrent_code_guesses_check_at_most_the_limit(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.auth import email_codes

    email = unique_email("guess-race")
    api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "register"})
    code = last_code(email)
    checks = SecretChecks(12)
    monkeypatch.setattr(email_codes, "_hash", checks.wrap(email_codes._hash))
    wrong = [f"{(int(code) + 1 + i) % 10**6:06d}" for i in range(12)]
    answers = checks.run(
        lambda i: api.post(
            "/auth/register", {"email": email, "email_code": wrong[i], "password": "Secret-pass-1"}
        ).json()["code"]
    )
    assert checks.evaluated == 5
    assert sorted(answers) == ["code_attempts_exceeded"] * 7 + ["code_invalid"] * 5
    right = api.post("/auth/register", {"email": email, "email_code": code, "password": "Secret-pass-1"})
    assert right.status == 422 and right.json()["code"] == "code_attempts_exceeded"


def test_email_code_resend_cooldown_and_expiry_fields(api: ApiClient) -> None:
    email = unique_email("cool")
    before = int(time.time())
    first = api.post("/auth/email-codes", {"email": email, "received_at": before, "scene": "register"})
    assert first.status == 200
    assert before + 60 <= first.json()["can_resend_at"] <= before + 62
    assert before + 600 <= first.json()["expired_at"] <= before + 602
    second = api.post("/auth/email-codes", {"email": email, "received_at": before, "scene": "register"})
    assert second.status == 429 and second.json()["code"] == "resend_too_soon"
    assert 1 <= int(second.headers["retry-after"]) <= 60
    assert len(sent_mail(email)) == 1


def test_email_codes_are_limited_per_source_address(api: ApiClient) -> None:
    ip = "192.0.2.77"
    answers = [
        api.post(
            "/auth/email-codes", {"email": unique_email("flood"), "received_at": 1, "scene": "register"}, source_ip=ip
        ).status
        for _ in range(21)
    ]
    assert answers[:20] == [200] * 20
    assert answers[20] == 429


def test_non_register_scenes_need_the_callers_own_email(api: ApiClient) -> None:
    email = unique_email("scene")
    token = register(api, email)["token"]
    anonymous = api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "withdrawal"})
    assert anonymous.status == 401
    other = api.post(
        "/auth/email-codes", {"email": "someone@example.com", "received_at": 1, "scene": "withdrawal"}, token=token
    )
    assert other.status == 403 and other.json()["field"] == "email"
    own = api.post("/auth/email-codes", {"email": email, "received_at": 1, "scene": "withdrawal"}, token=token)
    assert own.status == 200
    assert sent_mail(email)[-1].subject == "Confirm your withdrawal"


def test_login_needs_a_solved_captcha(api: ApiClient) -> None:
    body = {"email": "client2@broker.example.com", "password": "Client-demo-2026"}
    missing = api.post("/auth/login", body)
    assert missing.status == 422 and missing.json()["code"] == "validation_error"
    assert {e["field"] for e in missing.json()["errors"]} == {"Captcha-Token", "Captcha-Randstr", "Captcha-Action"}
    forged = api.post(
        "/auth/login", body, headers={"Captcha-Token": "0" * 64, "Captcha-Randstr": "abc", "Captcha-Action": "login"}
    )
    assert forged.status == 403 and forged.json()["field"] == "Captcha-Token"
    assert api.post("/auth/login", body, headers=captcha_headers()).status == 200


def test_every_captcha_header_is_required(api: ApiClient) -> None:
    body = {"email": "client2@broker.example.com", "password": "Client-demo-2026"}
    for header in ("Captcha-Token", "Captcha-Randstr", "Captcha-Action"):
        headers = {k: v for k, v in captcha_headers().items() if k != header}
        reply = api.post("/auth/login", body, headers=headers)
        assert (reply.status, reply.json()["field"]) == (422, header)
    other_action = api.post("/auth/login", body, headers=captcha_headers() | {"Captcha-Action": "register"})
    assert (other_action.status, other_action.json()["code"]) == (403, "captcha_action")
    # the loaded Auth function's document (loading the functions again would replace the modules the stack runs)
    auth_app = sys.modules["fxcrm_function_AuthFunction"].app
    parameters = auth_app.openapi()["paths"]["/auth/login"]["post"]["parameters"]
    assert {p["name"]: p["required"] for p in parameters if p["in"] == "header"} == {
        "Captcha-Token": True,
        "Captcha-Action": True,
        "Captcha-Randstr": True,
    }


def test_a_captcha_ticket_works_once(api: ApiClient) -> None:
    body = {"email": "client2@broker.example.com", "password": "Client-demo-2026"}
    headers = captcha_headers()
    assert api.post("/auth/login", body, headers=headers).status == 200
    replay = api.post("/auth/login", body, headers=headers)
    assert (replay.status, replay.json()["code"], replay.json()["field"]) == (403, "captcha_failed", "Captcha-Token")
    # and two requests racing with one ticket: one gets in
    race = captcha_headers()
    checks = SecretChecks(6)
    statuses = checks.run(lambda _: api.post("/auth/login", body, headers=race).status)
    assert sorted(statuses) == [200] + [403] * 5


def test_a_stale_local_ticket_is_refused(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.core import clock

    headers = captcha_headers()
    later = clock.now() + 301
    monkeypatch.setattr(clock, "now", lambda: later)
    stale = api.post("/auth/login", {"email": "client2@broker.example.com", "password": "x"}, headers=headers)
    assert (stale.status, stale.json()["code"]) == (403, "captcha_failed")


def test_captcha_verify_endpoint(api: ApiClient) -> None:
    ip = "192.0.2.90"
    headers = captcha_headers("r4nd")
    answer = {"app_id": 0, "rand_str": "r4nd", "ticket": headers["Captcha-Token"], "user_ip": "203.0.113.5"}
    bad = api.post("/auth/captcha/verify", answer | {"rand_str": "other"}, source_ip=ip)
    assert bad.json() == {"is_valid": False}
    another_app = api.post("/auth/captcha/verify", answer | {"app_id": 7}, source_ip=ip)
    assert another_app.json() == {"is_valid": False}
    good = api.post("/auth/captcha/verify", answer, source_ip=ip)
    assert good.status == 200 and good.json() == {"is_valid": True}
    again = api.post("/auth/captcha/verify", answer, source_ip=ip)  # single use, here too
    assert again.json() == {"is_valid": False}
    body = {"email": "client2@broker.example.com", "password": "Client-demo-2026"}
    assert api.post("/auth/login", body, headers=headers).status == 403  # used up by the check


@pytest.mark.usefixtures("frozen_clock")
def test_captcha_verify_is_limited_per_address(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.adapters import captcha as captcha_port

    relayed: list[str] = []
    original = captcha_port.LocalCaptcha.verify

    def counted(self: captcha_port.LocalCaptcha, answer: captcha_port.CaptchaAnswer) -> bool:
        relayed.append(answer.ticket)
        return original(self, answer)

    monkeypatch.setattr(captcha_port.LocalCaptcha, "verify", counted)
    answer = {"app_id": 0, "rand_str": "r", "ticket": "1.forged", "user_ip": "203.0.113.5"}
    answers = [api.post("/auth/captcha/verify", answer, source_ip="192.0.2.91") for _ in range(31)]
    assert [a.status for a in answers] == [200] * 30 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0 and len(relayed) == 30  # the 31st never reached the provider
    assert api.post("/auth/captcha/verify", answer, source_ip="192.0.2.92").status == 200  # per address


@pytest.mark.usefixtures("frozen_clock")
def test_ten_wrong_passwords_lock_the_account_with_429(api: ApiClient) -> None:
    email = unique_email("brute")
    register(api, email)
    statuses = [login(api, email, "Wrong-pass-9").status for _ in range(10)]
    assert statuses[:4] == [401] * 4
    assert statuses[5:] == [429] * 5
    locked = login(api, email, "Secret-pass-1")  # even the right password waits
    assert locked.status == 429 and int(locked.headers["retry-after"]) > 0


@pytest.mark.usefixtures("frozen_clock")
def test_twelve_concurrent_logins_check_at_most_five_passwords(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.core import passwords

    email = unique_email("race")
    register(api, email)
    tickets = [captcha_headers() for _ in range(12)]  # solved beforehand: the captcha is not under test
    checks = SecretChecks(12)
    monkeypatch.setattr(passwords, "verify_password", checks.wrap(passwords.verify_password))
    statuses = checks.run(
        lambda i: api.post("/auth/login", {"email": email, "password": f"Wrong-pass-{i}"}, headers=tickets[i]).status
    )
    assert checks.evaluated == 5
    assert sorted(statuses) == [401] * 5 + [429] * 7
    right = login(api, email, "Secret-pass-1")  # the limit holds for the right password too
    assert right.status == 429 and right.json()["code"] == "account_locked" and int(right.headers["retry-after"]) > 0
    assert checks.evaluated == 5


@pytest.mark.usefixtures("frozen_clock")
def test_a_success_frees_only_its_own_attempt(api: ApiClient) -> None:
    email = unique_email("resets")
    register(api, email)
    assert [login(api, email, "Wrong-pass-9").status for _ in range(4)] == [401] * 4
    assert login(api, email, "Secret-pass-1").status == 200  # does not reset the four failures
    assert login(api, email, "Wrong-pass-9").status == 401
    assert login(api, email, "Secret-pass-1").status == 429


@pytest.mark.usefixtures("frozen_clock")
def test_unknown_and_known_emails_get_the_same_work_and_answers(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    verified: list[str] = []
    original = PasswordHasher.verify

    def counted(self: PasswordHasher, stored: str, password: str) -> bool:
        verified.append(password)
        return original(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    known = unique_email("known")
    register(api, known)

    def six_wrong_logins(email: str) -> dict[str, object]:
        verified.clear()
        replies = [login(api, email, "Wrong-pass-9") for _ in range(6)]
        return {
            "answers": [(r.status, r.json()) for r in replies],
            "argon2": len(verified),
            "retry_after": replies[-1].headers.get("retry-after"),
        }

    unknown = six_wrong_logins(unique_email("ghost"))
    assert unknown == six_wrong_logins(known)
    assert unknown["argon2"] == 5  # one verification per checked attempt, none once locked
    answers = unknown["answers"]
    assert isinstance(answers, list) and [status for status, _ in answers] == [401] * 5 + [429]
    assert answers[-1][1]["code"] == "account_locked"


def test_unknown_email_and_wrong_password_answer_alike(api: ApiClient) -> None:
    unknown = login(api, unique_email("ghost"), "Secret-pass-1")
    wrong = login(api, "client2@broker.example.com", "Not-the-pass-1")
    assert unknown.status == wrong.status == 401
    assert unknown.json() == wrong.json()


def test_change_password_revokes_old_tokens(api: ApiClient) -> None:
    email = unique_email("change")
    old_token = register(api, email)["token"]
    assert api.get("/auth/menus", token=old_token).status == 200
    wrong_old = api.post(
        "/auth/password", {"old_password": "nope-123456", "new_password": "Newer-pass-2"}, token=old_token
    )
    assert wrong_old.status == 422 and wrong_old.json()["field"] == "old_password"
    changed = api.post(
        "/auth/password", {"old_password": "Secret-pass-1", "new_password": "Newer-pass-2"}, token=old_token
    )
    assert changed.status == 200 and changed.json() == {}
    refused = api.get("/auth/menus", token=old_token)
    assert refused.status == 401 and refused.json()["code"] == "token_revoked"
    assert login(api, email, "Secret-pass-1").status == 401
    new_token = login(api, email, "Newer-pass-2").json()["token"]
    assert api.get("/auth/menus", token=new_token).status == 200


def _claims_of(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signing_key() -> str:
    from fxcrm.adapters.secrets import get_secret_json
    from fxcrm.core.settings import get_settings

    return str(get_secret_json(get_settings().jwt_secret_name, 0)["signing_key"])


@pytest.mark.parametrize(
    "kind", ["tampered", "expired", "wrong_audience", "wrong_issuer", "alg_none", "other_key", "garbage", "missing"]
)
def test_bad_tokens_get_401(api: ApiClient, kind: str) -> None:
    token = login(api, *CLIENT2).json()["token"]
    claims = _claims_of(token)
    key = _signing_key()
    forged = {
        "tampered": lambda: ".".join(
            [token.split(".")[0], _b64({**claims, "role": "admin", "typ": "staff"}), token.split(".")[2]]
        ),
        "expired": lambda: jwt.encode({**claims, "iat": 1, "exp": int(time.time()) - 10}, key, algorithm="HS256"),
        "wrong_audience": lambda: jwt.encode({**claims, "aud": "someone-else"}, key, algorithm="HS256"),
        "wrong_issuer": lambda: jwt.encode({**claims, "iss": "evil"}, key, algorithm="HS256"),
        "alg_none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "other_key": lambda: jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "garbage": lambda: "not-a-token",
        "missing": lambda: None,
    }[kind]()
    reply = api.get("/auth/permissions", token=forged)
    assert reply.status == 401
    assert reply.json()["field"] == "Authorization"


def test_client_token_on_staff_only_route_gets_403(api: ApiClient) -> None:
    token = login(api, *CLIENT2).json()["token"]
    reply = api.put("/site/branding", {"support_phone": "+1 555 0100"}, token=token)
    assert reply.status == 403 and reply.json()["code"] == "staff_only"


def test_support_role_may_not_change_site_settings(api: ApiClient) -> None:
    token = staff_token(api, *SUPPORT)
    reply = api.put("/site/login-page", {"client_login_layout": "center"}, token=token)
    assert reply.status == 403 and reply.json()["code"] == "permission_denied"


def test_admin_changes_branding_and_everyone_sees_it(api: ApiClient) -> None:
    token = staff_token(api, *ADMIN)
    bad = api.put("/site/branding", {"timezone": "Mars/Olympus"}, token=token)
    assert bad.status == 422 and bad.json()["field"] == "timezone"
    saved = api.put(
        "/site/branding",
        {
            "support_phone": "+44 20 7946 0000",
            "timezone": "Asia/Shanghai",
            "broker_name_i18n": {"en": "Acme FX", "zh-CN": "阿克米", "zh-TW": "阿克米"},
        },
        token=token,
    )
    assert saved.status == 200
    public = api.get("/site/branding").json()
    assert public["support_phone"] == "+44 20 7946 0000"
    assert public["broker_name_i18n"] == {"en": "Acme FX", "zh-CN": "阿克米", "zh-TW": "阿克米"}
    assert set(public) == {
        "broker_name_i18n",
        "company_logo_url",
        "email",
        "login_page_logo_url",
        "support_phone",
        "timezone",
        "watermark_logo_url",
    }
    pages = api.put("/site/login-page", {"ib_login_layout": "right"}, token=token)
    assert pages.status == 200 and api.get("/site/login-page").json()["ib_login_layout"] == "right"


def test_menus_and_permissions_follow_the_role(api: ApiClient) -> None:
    client = login(api, *CLIENT2).json()["token"]
    ib = login(api, *IB).json()["token"]
    support = staff_token(api, *SUPPORT)

    client_keys = {m["key"] for m in api.get("/auth/menus", token=client).json()["list"]}
    assert "funding" in client_keys and "ib.profile" not in client_keys
    ib_perms = api.get("/auth/permissions", token=ib).json()
    assert "ib.commission" in ib_perms["actions"]
    assert {m["key"] for m in ib_perms["menus"]} == {"ib.profile", "ib.clients", "ib.commission"}
    # an IB also uses the client portal; a client may not use the IB portal
    assert api.get("/auth/permissions/client", token=ib).status == 200
    assert api.get("/auth/permissions/ib", token=client).status == 403
    support_menu = {m["key"] for m in api.get("/auth/menus", token=support).json()["list"]}
    assert "admin.approvals" in support_menu and "admin.settings" not in support_menu
    support_actions = api.get("/auth/permissions", token=support).json()["actions"]
    assert "admin.approvals.decide" not in support_actions


def test_validation_errors_name_the_field(api: ApiClient) -> None:
    reply = api.post("/auth/email-codes", {"email": "a@example.com", "received_at": 1, "scene": "holiday"})
    assert reply.status == 422
    assert reply.json()["field"] == "scene" and reply.json()["code"] == "validation_error"
    unknown = api.post(
        "/auth/login", {"email": "a@example.com", "password": "x", "admin": True}, headers=captcha_headers()
    )
    assert unknown.status == 422 and unknown.json()["field"] == "admin"


def test_login_aws_call_budget(api: ApiClient) -> None:
    login(api, *CLIENT2)  # warm the secret cache
    with AwsCalls() as calls:
        assert login(api, *CLIENT2).status == 200
    # use the captcha ticket up, take an attempt, email -> id, the user, give the attempt
    # back; secrets are cached
    assert calls.counts == {"dynamodb.PutItem": 1, "dynamodb.UpdateItem": 2, "dynamodb.GetItem": 2}
    token = login(api, *CLIENT2).json()["token"]
    with AwsCalls() as calls:
        assert api.get("/auth/menus", token=token).status == 200
    assert calls.counts == {"dynamodb.GetItem": 1}


def test_undeclared_method_gets_405_listing_every_allowed_method(api: ApiClient) -> None:
    reply = api.request("DELETE", "/site/branding")
    assert reply.status == 405 and reply.json()["code"] == "method_not_allowed"
    assert reply.headers["allow"] == "GET, PUT"
    missing = api.get("/auth/nothing-here")
    assert missing.status == 404
    assert missing.json() == {"code": "not_found", "message": "no such path: /auth/nothing-here", "field": "path"}
    assert reply.json()["field"] == "method"


@pytest.mark.parametrize(
    ("body", "offset"), [(b'{"email": ', 10), (b'{"email": "a@b.example", }', 25), (b"not json", 0)]
)
def test_a_malformed_json_body_names_the_body(api: ApiClient, body: bytes, offset: int) -> None:
    """Not a character offset as the field: the body itself is at fault."""
    status, _, payload = api.gateway.call(
        "POST", "/auth/login", {"Content-Type": "application/json"}, body, "203.0.113.9"
    )
    answer = json.loads(payload)
    assert (status, answer["code"], answer["field"]) == (422, "validation_error", "body")
    assert answer["errors"] == [{"field": "body", "message": f"is not valid JSON (at character {offset})"}]
