"""SES's side of mail, locally: the messages it accepted (the dev mailbox)
and the bounce and complaint notifications it would publish.

moto keeps what was sent but neither bounces nor publishes events, so a test
(or `/_dev/mail/bounce`) asks for one here: the notification is built in SES's
event-publishing shape and delivered, as SNS delivers to Lambda, to each
function subscribed to the topic that the template's configuration set
publishes that event type to."""

import email
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses
from typing import Any

from localcloud.provision import ACCOUNT_ID, REGION, Stack

Invoke = Callable[[str, Any], Any]  # (physical function name, event) -> result


@dataclass(frozen=True)
class Mail:
    """One message SES accepted: the text part as `body`, the HTML part as `html`."""

    id: str
    source: str
    to: list[str]
    subject: str
    body: str
    html: str
    headers: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.source,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "html": self.html,
            "headers": self.headers,
        }


def _part(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""
    return ""


def _decoded(value: str | None) -> str:
    return str(email.header.make_header(email.header.decode_header(value or "")))


def sent_mail(to: str = "") -> list[Mail]:
    """Mail SES accepted, oldest first; with `to`, only mail to that address."""
    from moto.ses.models import ses_backends

    wanted = to.lower()
    found = []
    for sent in ses_backends[ACCOUNT_ID][REGION].sent_messages:
        raw = getattr(sent, "raw_data", None)
        if raw is not None:
            parsed = email.message_from_string(raw)
            recipients = [a.lower() for _, a in getaddresses(list(getattr(sent, "destinations", [])))]
            mail = Mail(
                sent.id,
                _decoded(parsed["From"]),
                recipients,
                _decoded(parsed["Subject"]),
                _part(parsed, "plain"),
                _part(parsed, "html"),
                {k: _decoded(v) for k, v in parsed.items()},
            )
        else:  # a simple SendEmail: one body
            recipients = [a.lower() for a in getattr(sent, "destinations", {}).get("ToAddresses", [])]
            mail = Mail(
                sent.id, sent.source, recipients, getattr(sent, "subject", ""), getattr(sent, "body", ""), "", {}
            )
        if not wanted or wanted in mail.to:
            found.append(mail)
    return found


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def notification(
    kind: str, address: str, sender: str, configuration_set: str, bounce_type: str = "Permanent"
) -> dict[str, Any]:
    """SES's event-publishing JSON for a bounce or complaint of a message to `address`."""
    at = _now()
    message_id = f"{uuid.uuid4().hex}-000000"
    mail = {
        "timestamp": at,
        "source": sender,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{sender}",
        "sendingAccountId": ACCOUNT_ID,
        "messageId": message_id,
        "destination": [address],
        "headersTruncated": False,
        "tags": {"ses:configuration-set": [configuration_set], "ses:source-ip": ["127.0.0.1"]},
    }
    feedback_id = f"{uuid.uuid4().hex}-000000"
    if kind == "bounce":
        return {
            "eventType": "Bounce",
            "bounce": {
                "bounceType": bounce_type,
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": address,
                        "action": "failed",
                        "status": "5.1.1" if bounce_type == "Permanent" else "4.2.2",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown"
                        if bounce_type == "Permanent"
                        else "smtp; 452 4.2.2 mailbox full",
                    }
                ],
                "timestamp": at,
                "feedbackId": feedback_id,
                "reportingMTA": "dsn; localcloud",
            },
            "mail": mail,
        }
    if kind == "complaint":
        return {
            "eventType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": at,
                "feedbackId": feedback_id,
                "userAgent": "localcloud",
                "complaintFeedbackType": "abuse",
                "arrivalDate": at,
            },
            "mail": mail,
        }
    raise ValueError(f"kind is bounce or complaint, not {kind!r}")


def sns_event(topic_arn: str, message: dict[str, Any]) -> dict[str, Any]:
    """What SNS hands a subscribed Lambda function."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": _now(),
                    "SignatureVersion": "1",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def publish(stack: Stack, invoke: Invoke, kind: str, address: str, bounce_type: str = "Permanent") -> list[Any]:
    """Deliver SES's notification of a `kind` (bounce, complaint) for mail sent
    through the stack's configuration set to `address`: the subscribed
    functions' answers."""
    from fxcrm.core.settings import get_settings

    settings = get_settings()
    configuration_set = settings.mail_configuration_set
    message = notification(kind, address, settings.ses_sender, configuration_set, bounce_type)
    answers = []
    for topic in stack.mail_event_topics.get((configuration_set, kind), []):
        for function in stack.subscriptions.get(topic, []):
            answers.append(invoke(stack.functions[function], sns_event(topic, message)))
    if not answers:
        raise ValueError(f"the configuration set {configuration_set!r} publishes no {kind} to a function")
    return answers
