"""Public names of audited models: the API's `model` field and its filter.

Django's labels (`sla.slapolicy`) leak class names; these read as the product speaks.
A model not listed here is named by its Django label.
"""

PUBLIC_NAMES: dict[str, str] = {
    "sla.slapolicy": "sla.policy",
    "sla.businesscalendar": "sla.calendar",
    "sla.holiday": "sla.holiday",
    "org.team": "org.team",
    "org.service": "org.service",
    "org.customer": "org.customer",
    "boards.board": "boards.board",
    "boards.column": "boards.column",
    "boards.lane": "boards.lane",
    "boards.reasoncode": "boards.reason_code",
    "webhooks.subscription": "webhooks.subscription",
    "mail.mailbox": "mail.mailbox",
    "auth.user": "accounts.user",
}


def public_name(label_lower: str) -> str:
    return PUBLIC_NAMES.get(label_lower, label_lower)
