"""Outgoing email through SES."""

from fxcrm.dal import aws


def mime_message(sender: str, sender_name: str, to: str, subject: str, text: str, html: str) -> bytes:
    """multipart/alternative with the text part first (what a client without
    HTML shows) and the HTML part last (what the others prefer), UTF-8.
    Header values are encoded by the email package, so no value can add a header."""
    # Imported here: ~25 ms that a function pays only when it first sends mail.
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)
    local, _, domain = sender.partition("@")
    message["From"] = Address(display_name=sender_name, username=local, domain=domain)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message.as_bytes()


def send_message(
    sender: str, to: str, raw: bytes, configuration_set: str = "", tags: dict[str, str] | None = None
) -> str:
    """Send a MIME message from `sender` (the verified identity) to `to`; with
    `configuration_set`, SES publishes its bounces and complaints to the set's
    event destination."""
    kwargs: dict[str, object] = {"Source": sender, "Destinations": [to], "RawMessage": {"Data": raw}}
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    if tags:
        kwargs["Tags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
    response = aws.client("ses").send_raw_email(**kwargs)
    return str(response["MessageId"])
