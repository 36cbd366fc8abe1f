"""Mailbox configuration. The IMAP password lives in imap_url and is never shown again: an
address given without a password keeps the stored one."""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Mailbox

FIELDS = (
    "name",
    "address",
    "imap_url",
    "folder",
    "default_service",
    "default_customer",
    "acknowledge",
    "active",
)


def _clean_imap_url(url: str, *, keep_from: str = "") -> str:
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValidationError(
            {"imap_url": ["Use imap://user:password@host:port or imaps://user:password@host."]}
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValidationError({"imap_url": ["The port must be a number."]}) from None
    if parts.password is None and keep_from:
        old = urlsplit(keep_from)
        if old.password is not None and (old.username == parts.username):
            host = parts.netloc.rpartition("@")[2]
            netloc = f"{parts.username}:{old.password}@{host}"
            url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return url


@transaction.atomic
def mailbox_create(**data: Any) -> Mailbox:
    data["imap_url"] = _clean_imap_url(data.get("imap_url", ""))
    data["address"] = (data.get("address") or "").strip().lower()
    if Mailbox.objects.filter(address=data["address"]).exists():
        raise ValidationError({"address": ["Another mailbox has this address."]})
    return Mailbox.objects.create(**{k: v for k, v in data.items() if k in FIELDS})


@transaction.atomic
def mailbox_update(*, mailbox: Mailbox, data: dict[str, Any]) -> Mailbox:
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if "imap_url" in data:
        data["imap_url"] = _clean_imap_url(data["imap_url"], keep_from=mailbox.imap_url)
    if "address" in data:
        data["address"] = data["address"].strip().lower()
        if Mailbox.objects.filter(address=data["address"]).exclude(pk=mailbox.pk).exists():
            raise ValidationError({"address": ["Another mailbox has this address."]})
    for field, value in data.items():
        if field in FIELDS:
            setattr(mailbox, field, value)
    mailbox.save()
    return mailbox
