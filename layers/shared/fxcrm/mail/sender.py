"""Send a client message: in the recipient's language, with the broker's
branding, through the configuration set, and never to a suppressed address."""

from typing import Any

from fxcrm.adapters import mail as ses
from fxcrm.core import clock
from fxcrm.core.branding import Branding
from fxcrm.core.languages import Language, known
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import mail as dal
from fxcrm.mail.render import reason_in, render


def send(
    settings: Settings,
    to: str,
    message: str,
    values: dict[str, Any],
    *,
    user_id: int | None = None,
    language: Language | None = None,
    outcome: str | None = None,
) -> str | None:
    """Send `message` to `to`; the SES message id, or None when the address is
    suppressed (the skip is counted on its suppression item). The language is
    the user's (`user_id`), else `language` (a request's, before there is a
    user), else English. With `outcome`, `values["reason"]` is the staff
    reason for a rejection, and the outcome's own words otherwise."""
    context = dal.sending_context(to, user_id)
    if context.suppression is not None:
        dal.record_skip(to, message, clock.now())
        logger.info(
            "mail not sent: address suppressed",
            extra={"mail_message": message, "reason": context.suppression["reason"]},
        )
        return None
    chosen = known((context.user or {}).get("language") or language)
    branding = Branding.model_validate(context.branding) if context.branding else Branding()
    if outcome is not None:
        values = values | {"reason": reason_in(chosen, outcome, str(values.get("reason") or ""))}
    rendered = render(message, values, chosen, branding)
    sender_name = branding.broker_name(chosen)  # "fxcrm Demo Broker <no-reply@...>"
    raw = ses.mime_message(settings.ses_sender, sender_name, to, rendered.subject, rendered.text, rendered.html)
    return ses.send_message(settings.ses_sender, to, raw, settings.mail_configuration_set, {"message": message})
