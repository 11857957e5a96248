"""Client mail over HTTP against `python -m localcloud`: a Chinese browser's
sign-up mail is in Chinese, and an address SES reports as bounced gets no
more mail while the API answers as before."""

import secrets
import time

import httpx
import pytest

from tests.support.http_journeys import RunningCloud, bearer

pytestmark = pytest.mark.e2e


def test_a_chinese_sign_up_is_mailed_in_chinese_until_the_address_bounces(cloud: RunningCloud) -> None:
    email = f"e2e-mail-{secrets.token_hex(4)}@example.com"
    chinese = {"Accept-Language": "zh-TW,zh;q=0.8,en;q=0.5"}
    with cloud.client() as http:
        code = {"email": email, "received_at": int(time.time()), "scene": "register"}
        assert http.post("/auth/email-codes", json=code, headers=chinese).status_code == 200
        (mail,) = cloud.mailbox(email)
        assert mail["subject"] == "您的註冊驗證碼" and "fxcrm 演示經紀商" in mail["body"]
        assert '<html lang="zh-TW">' in mail["html"]
        body = {"email": email, "email_code": cloud.code_for(email), "password": "Mail-pass-1"}
        registered = http.post("/auth/register", json=body, headers=chinese)
        assert registered.status_code == 201, registered.text
        auth = bearer(registered.json()["token"])
        assert http.get("/auth/language", headers=auth).json() == {"language": "zh-TW"}

        bounced = httpx.get(f"{cloud.url}/_dev/mail/bounce", params={"to": email, "kind": "bounce"}, timeout=10)
        assert bounced.status_code == 200 and bounced.json() == [{"suppressed": 1}]
        again = {"email": email, "received_at": int(time.time()), "scene": "withdrawal"}
        reply = http.post("/auth/email-codes", json=again, headers=auth)
        assert reply.status_code == 200 and set(reply.json()) == {"can_resend_at", "expired_at"}
        assert len(cloud.mailbox(email)) == 1  # only the sign-up code
