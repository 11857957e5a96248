"""Outgoing email through SES."""

from fxcrm.dal import aws


def send_email(sender: str, to: str, subject: str, text: str) -> str:
    response = aws.client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
        },
    )
    return str(response["MessageId"])
