"""The captcha port and its two adapters, chosen by `CAPTCHA_PROVIDER`.

- `TencentCaptcha` calls Tencent Cloud's DescribeCaptchaResult (CaptchaType 9)
  with the broker's CaptchaAppId/AppSecretKey and API credentials from
  Secrets Manager; CaptchaCode 1 means the ticket is valid.
- `LocalCaptcha` stands in on a laptop: the local cloud's widget endpoint
  issues ticket = `<issued_at>.` + HMAC-SHA256(key, app_id:randstr:issued_at), and
  this verifier checks it and its age (as Tencent's tickets, they go stale).

Either way a good ticket is used up by the caller (`fxcrm.auth.captcha`): the
port only says whether the provider vouches for it.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

from fxcrm.adapters.secrets import get_secret_json
from fxcrm.core import clock
from fxcrm.core.errors import ProviderUnavailable
from fxcrm.core.settings import Settings


@dataclass(frozen=True)
class CaptchaAnswer:
    app_id: int
    ticket: str
    randstr: str
    user_ip: str


class CaptchaVerifier(Protocol):
    def verify(self, answer: CaptchaAnswer) -> bool: ...


LOCAL_TICKET_SECONDS = 300


def local_ticket(key: str, app_id: int, randstr: str, issued_at: int) -> str:
    mac = hmac.new(key.encode(), f"{app_id}:{randstr}:{issued_at}".encode(), hashlib.sha256).hexdigest()
    return f"{issued_at}.{mac}"


class LocalCaptcha:
    def __init__(self, key: str) -> None:
        self._key = key

    def verify(self, answer: CaptchaAnswer) -> bool:
        issued, _, _ = answer.ticket.partition(".")
        if not answer.randstr or not issued.isdigit():
            return False
        if not 0 <= clock.now() - int(issued) <= LOCAL_TICKET_SECONDS:
            return False
        expected = local_ticket(self._key, answer.app_id, answer.randstr, int(issued))
        return hmac.compare_digest(expected, answer.ticket)


class TencentCaptcha:
    CAPTCHA_TYPE = 9  # the only type Tencent accepts for web and app tickets
    VALID = 1

    def __init__(self, secret_name: str, cache_seconds: int) -> None:
        self._secret_name = secret_name
        self._cache_seconds = cache_seconds

    def verify(self, answer: CaptchaAnswer) -> bool:
        # Imported here: the SDK is only needed where Tencent is configured.
        from tencentcloud.captcha.v20190722 import captcha_client, models
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        secret = get_secret_json(self._secret_name, self._cache_seconds)
        client = captcha_client.CaptchaClient(credential.Credential(secret["secret_id"], secret["secret_key"]), "")
        request = models.DescribeCaptchaResultRequest()
        request.CaptchaType = self.CAPTCHA_TYPE
        request.Ticket = answer.ticket
        request.Randstr = answer.randstr
        request.UserIp = answer.user_ip
        request.CaptchaAppId = answer.app_id
        request.AppSecretKey = secret["app_secret_key"]
        try:
            response = client.DescribeCaptchaResult(request)
        except TencentCloudSDKException as error:
            raise ProviderUnavailable("the captcha service did not answer") from error
        return bool(response.CaptchaCode == self.VALID)


def verifier_from_settings(settings: Settings) -> CaptchaVerifier:
    if settings.captcha_provider == "tencent":
        return TencentCaptcha(settings.captcha_secret_name, settings.secret_cache_seconds)
    secret = get_secret_json(settings.captcha_secret_name, settings.secret_cache_seconds)
    return LocalCaptcha(secret["local_key"])
