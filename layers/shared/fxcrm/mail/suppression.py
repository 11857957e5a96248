"""SES's bounce and complaint notifications, turned into suppressions.

SES publishes them to the configuration set's SNS topic as JSON: event
publishing names the kind in `eventType`, identity notifications in
`notificationType`; both carry `bounce` or `complaint` and `mail`. A hard
bounce (`bounceType` Permanent) or any complaint suppresses each recipient it
names; a soft bounce (Transient, Undetermined) does not: the next mail may
reach them."""

from datetime import datetime
from typing import Any

from fxcrm.core.observability import logger
from fxcrm.dal import mail as dal


def _epoch(timestamp: Any, fallback: int) -> int:
    try:
        return int(datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return fallback


def record(notification: dict[str, Any], now: int) -> list[str]:
    """Suppress the addresses a notification says must not be mailed again;
    the addresses suppressed (none for a delivery or a soft bounce)."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "")
    message_id = str((notification.get("mail") or {}).get("messageId", ""))
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            logger.info("soft bounce: address kept", extra={"bounce_type": bounce.get("bounceType")})
            return []
        recipients = bounce.get("bouncedRecipients") or []
        at = _epoch(bounce.get("timestamp"), now)
        feedback = str(bounce.get("feedbackId") or message_id)
        suppressed = []
        for recipient in recipients:
            detail = {
                "bounce_type": str(bounce.get("bounceType", "")),
                "bounce_sub_type": str(bounce.get("bounceSubType", "")),
                "status": str(recipient.get("status", "")),
                "diagnostic_code": str(recipient.get("diagnosticCode", ""))[:1000],
                "message_id": message_id,
            }
            suppressed.append(_suppress(recipient, "bounce", detail, feedback, at))
        return [a for a in suppressed if a]
    if kind == "Complaint":
        complaint = notification.get("complaint") or {}
        at = _epoch(complaint.get("timestamp"), now)
        feedback = str(complaint.get("feedbackId") or message_id)
        detail = {
            "feedback_type": str(complaint.get("complaintFeedbackType", "")),
            "message_id": message_id,
        }
        suppressed = [
            _suppress(r, "complaint", detail, feedback, at) for r in complaint.get("complainedRecipients") or []
        ]
        return [a for a in suppressed if a]
    logger.info("mail event ignored", extra={"kind": kind})
    return []


def _suppress(recipient: dict[str, Any], reason: str, detail: dict[str, str], feedback: str, at: int) -> str:
    address = str(recipient.get("emailAddress") or "").strip().lower()
    if "@" not in address:
        return ""
    dal.suppress(address, reason, detail, feedback, at)
    logger.info("address suppressed", extra={"reason": reason, "feedback_id": feedback})
    return address
