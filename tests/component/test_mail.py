"""Client mail through the real handlers: in the user's language with the
broker's branding, and never again to an address that bounced hard or
complained (SES's notification delivered to the MailEvents function as SNS
would), while the API answers exactly as before."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from localcloud.functions import Dispatcher
from localcloud.mail_events import notification, publish, sns_event
from localcloud.provision import Stack
from tests.support.api import ApiClient
from tests.support.journeys import Client, _any_ip, deposit, last_code, register, sent_mail, unique_email
from tests.support.waiting import wait_for

LOTUS = {
    "broker_name_i18n": {"en": "Lotus Markets", "zh-CN": "莲花市场", "zh-TW": "蓮花市場"},
    "email": "help@lotus.example",
    "company_logo_url": "https://cdn.lotus.example/logo.png",
    "support_phone": "+852 3000 0000",
}


@contextmanager
def branding(api: ApiClient, admin: str, value: dict[str, Any]) -> Iterator[None]:
    """The broker's branding set by staff for the test, then put back."""
    before = api.get("/site/branding").json()
    assert api.put("/site/branding", before | value, token=admin).status == 200
    try:
        yield
    finally:
        assert api.put("/site/branding", before, token=admin).status == 200


def _code(api: ApiClient, email: str, scene: str, token: str | None = None, language: str | None = None) -> Any:
    headers = {"Accept-Language": language} if language else {}
    body = {"email": email, "received_at": int(time.time()), "scene": scene}
    return api.post("/auth/email-codes", body, token=token, headers=headers, source_ip=_any_ip())


def test_a_code_mail_to_a_chinese_client_is_in_chinese_with_the_brokers_name(api: ApiClient, admin: str) -> None:
    email = unique_email("zh")
    with branding(api, admin, LOTUS):
        assert _code(api, email, "register", language="zh-CN,zh;q=0.9,en;q=0.5").status == 200
        mail = sent_mail(email)[-1]
        assert mail.subject == "您的注册验证码"
        assert "您在 莲花市场 的注册验证码是" in mail.body and "莲花市场 团队" in mail.body
        assert "help@lotus.example" in mail.body and "+852 3000 0000" in mail.body
        assert '<html lang="zh-CN">' in mail.html and 'src="https://cdn.lotus.example/logo.png"' in mail.html
        assert mail.headers["From"] == "莲花市场 <no-reply@broker.example.com>"

        # registered from a Chinese browser: the client's language is zh-CN from now on
        body = {"email": email, "email_code": last_code(email), "password": "Secret-pass-1"}
        registered = api.post("/auth/register", body, headers={"Accept-Language": "zh-CN"})
        assert registered.status == 201, registered.body
        token = registered.json()["token"]
        assert api.get("/auth/language", token=token).json() == {"language": "zh-CN"}
        assert _code(api, email, "withdrawal", token, language="en-US").status == 200  # the user's own choice wins
        assert sent_mail(email)[-1].subject == "确认您的出金"

        # the client switches to traditional characters
        assert api.put("/auth/language", {"language": "zh-TW"}, token=token).json() == {"language": "zh-TW"}
        assert _code(api, email, "transfer", token).status == 200
        mail = sent_mail(email)[-1]
        assert mail.subject == "確認您的轉帳" and "蓮花市場 團隊" in mail.body
        assert mail.headers["From"] == "蓮花市場 <no-reply@broker.example.com>"


def test_a_language_named_at_registration_wins_and_a_bad_one_is_refused(api: ApiClient) -> None:
    email = unique_email("tw")
    assert _code(api, email, "register").status == 200
    assert sent_mail(email)[-1].subject == "Your registration code"  # no Accept-Language: English
    body = {"email": email, "email_code": last_code(email), "password": "Secret-pass-1"}
    bad = api.post("/auth/register", body | {"language": "fr"})
    assert bad.status == 422 and bad.json()["field"] == "language"
    made = api.post("/auth/register", body | {"language": "zh-TW"}, headers={"Accept-Language": "zh-CN"})
    assert made.status == 201, made.body
    token = made.json()["token"]
    assert api.get("/auth/language", token=token).json() == {"language": "zh-TW"}
    refused = api.put("/auth/language", {"language": "de"}, token=token)
    assert refused.status == 422 and refused.json()["field"] == "language"
    assert api.put("/auth/language", {"language": "en"}).status == 401


def test_a_hard_bounce_stops_further_mail_and_the_api_answers_as_before(
    api: ApiClient, stack: Stack, dispatcher: Dispatcher
) -> None:
    from fxcrm.dal.mail import get_suppression

    email = unique_email("bounce")
    token = register(api, email)["token"]
    before = len(sent_mail(email))
    assert publish(stack, dispatcher.invoke, "bounce", email) == [{"suppressed": 1}]
    suppression = get_suppression(email)
    assert suppression is not None and suppression["reason"] == "bounce"
    assert suppression["detail"]["bounce_type"] == "Permanent" and suppression["detail"]["status"] == "5.1.1"

    reply = _code(api, email, "withdrawal", token)
    assert reply.status == 200 and set(reply.json()) == {"can_resend_at", "expired_at"}
    assert len(sent_mail(email)) == before  # nothing went out
    skipped = get_suppression(email)
    assert skipped is not None and skipped["skipped"] == 1 and skipped["last_skipped_message"] == "code_withdrawal"


def test_a_soft_bounce_keeps_the_address_and_a_complaint_suppresses_it(
    api: ApiClient, stack: Stack, dispatcher: Dispatcher
) -> None:
    from fxcrm.dal.mail import get_suppression

    email = unique_email("soft")
    token = register(api, email)["token"]
    assert publish(stack, dispatcher.invoke, "bounce", email, bounce_type="Transient") == [{"suppressed": 0}]
    assert get_suppression(email) is None
    before = len(sent_mail(email))
    assert _code(api, email, "withdrawal", token).status == 200
    assert len(sent_mail(email)) == before + 1

    assert publish(stack, dispatcher.invoke, "complaint", email) == [{"suppressed": 1}]
    suppression = get_suppression(email)
    assert suppression is not None and suppression["reason"] == "complaint"
    assert suppression["detail"]["feedback_type"] == "abuse"
    assert _code(api, email, "transfer", token).status == 200
    assert len(sent_mail(email)) == before + 1


def test_a_notification_delivered_twice_is_recorded_once(stack: Stack, dispatcher: Dispatcher) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.dal.mail import get_suppression

    email = unique_email("twice")
    settings = get_settings()
    message = notification("bounce", email.upper(), settings.ses_sender, settings.mail_configuration_set)
    (topic,) = stack.mail_event_topics[(settings.mail_configuration_set, "bounce")]
    for _ in range(2):  # SNS delivers at least once
        dispatcher.invoke(stack.functions["MailEventsFunction"], sns_event(topic, message))
    suppression = get_suppression(email)  # addresses are kept lower-cased, as users' are
    assert suppression is not None and suppression["feedback_ids"] == {message["bounce"]["feedbackId"]}


def test_a_suppressed_clients_deposit_is_still_credited_without_a_mail(
    api: ApiClient, admin: str, client: Client, stack: Stack, dispatcher: Dispatcher
) -> None:
    from fxcrm.dal.mail import get_suppression

    publish(stack, dispatcher.invoke, "complaint", client.email)
    before = len(sent_mail(client.email))
    deposit(api, admin, client, client.accounts[0], "150.00")  # approved and credited, as for anyone

    # the flow's last step skips the mail after it approved the order: wait for the skip
    def skipped() -> dict[str, Any]:
        return {"message": (get_suppression(client.email) or {}).get("last_skipped_message", "")}

    wait_for(skipped, "deposit_credited", key="message")
    assert len(sent_mail(client.email)) == before


def test_the_sample_sns_bounce_event_suppresses_its_address(stack: Stack) -> None:
    """events/mail_events/bounce.json, SES's notification as SNS hands it to
    Lambda (what `sam local invoke MailEventsFunction -e` would send)."""
    import json

    from fxcrm.dal.mail import get_suppression
    from localcloud.events import LocalContext
    from localcloud.functions import load_function
    from localcloud.template import ROOT

    handler, _ = load_function("MailEventsFunction", stack.resolver.properties("MailEventsFunction"))
    event = json.loads((ROOT / "events" / "mail_events" / "bounce.json").read_text())
    assert handler(event, LocalContext(stack.functions["MailEventsFunction"])) == {"suppressed": 1}
    suppression = get_suppression("bounced-sample@example.com")
    assert suppression is not None and suppression["detail"]["diagnostic_code"] == "smtp; 550 5.1.1 user unknown"


def test_an_identity_notification_counts_as_well_and_a_delivery_changes_nothing(
    stack: Stack, dispatcher: Dispatcher
) -> None:
    """SES's identity notifications name the kind in `notificationType`, not
    `eventType`; other kinds (a delivery) suppress nobody."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal.mail import get_suppression

    settings = get_settings()
    (topic,) = stack.mail_event_topics[(settings.mail_configuration_set, "bounce")]
    bounced, delivered = unique_email("identity"), unique_email("delivered")
    legacy = notification("bounce", bounced, settings.ses_sender, settings.mail_configuration_set)
    legacy["notificationType"] = legacy.pop("eventType")
    delivery = {"eventType": "Delivery", "mail": {"destination": [delivered]}, "delivery": {"recipients": [delivered]}}
    function = stack.functions["MailEventsFunction"]
    assert dispatcher.invoke(function, sns_event(topic, legacy)) == {"suppressed": 1}
    assert dispatcher.invoke(function, sns_event(topic, delivery)) == {"suppressed": 0}
    assert get_suppression(bounced) is not None and get_suppression(delivered) is None
