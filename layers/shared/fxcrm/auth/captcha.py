"""Captcha tickets: checked with the provider, then used up, once.

A ticket the provider vouches for is accepted only by the first request that
marks it used (a conditional put), so neither the login nor the verify
endpoint accepts it again. The verify endpoint is unauthenticated and, with
Tencent, each call costs a paid API call: it is limited per source address and
answers only for the broker's own CaptchaAppId."""

import hashlib

from fxcrm.adapters.captcha import CaptchaAnswer, verifier_from_settings
from fxcrm.core.errors import Forbidden, TooManyRequests
from fxcrm.core.settings import Settings
from fxcrm.dal import captcha as captcha_dal
from fxcrm.dal import rate_limits

USED_TICKET_SECONDS = 86400  # far longer than a ticket is valid (local: 5 minutes)
LOGIN_ACTION = "login"


def accept(settings: Settings, answer: CaptchaAnswer, now: int) -> bool:
    """True once for a good ticket: forged, stale, used or another app's tickets are False."""
    if answer.app_id != settings.captcha_app_id:
        return False  # not ours: never relayed to the provider
    if not verifier_from_settings(settings).verify(answer):
        return False
    ticket_hash = hashlib.sha256(f"{answer.app_id}:{answer.ticket}".encode()).hexdigest()
    return captcha_dal.use_ticket(ticket_hash, now, USED_TICKET_SECONDS)


def check_login(settings: Settings, ticket: str, randstr: str, action: str, source_ip: str, now: int) -> None:
    """Without a fresh solved captcha the caller may not try a password: 403, naming the header."""
    if action != LOGIN_ACTION:
        raise Forbidden("the captcha was solved for another action", "Captcha-Action", "captcha_action")
    if not accept(settings, CaptchaAnswer(settings.captcha_app_id, ticket, randstr, source_ip), now):
        raise Forbidden("the captcha was not solved, or its ticket was used already", "Captcha-Token", "captcha_failed")


def verify(settings: Settings, answer: CaptchaAnswer, caller_ip: str, now: int) -> bool:
    """The verify endpoint: limited per caller address; a good ticket is used up here too."""
    allowance = settings.captcha_verifications_per_address_per_hour
    if rate_limits.take("captcha-verify-ip", caller_ip, allowance, 3600, now) is None:
        raise TooManyRequests("too many captcha checks from this address", rate_limits.seconds_left(3600, now))
    return accept(settings, answer, now)
