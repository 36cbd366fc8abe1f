"""Mailbox configuration. The IMAP password lives in imap_url and is never shown again: an
address given without a password keeps the stored one."""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_created, audit_snapshot, audit_updated

from .models import Mailbox, public_url

# Audited as they are; the IMAP address is audited without its password (see _imap_change).
AUDITED = ("name", "address", "folder", "default_service", "default_customer", "acknowledge", "active")
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


def _imap_change(old: str, new: str) -> dict[str, list[Any]]:
    """The audit's view of an IMAP address change: the address without the password, and
    only the fact that the password changed."""
    changes: dict[str, list[Any]] = {}
    if public_url(old) != public_url(new):
        changes["imap_url"] = [public_url(old) or None, public_url(new) or None]
    if (urlsplit(old).password if old else None) != (urlsplit(new).password if new else None):
        changes["imap_password"] = ["[changed]", "[changed]"]
    return changes


@transaction.atomic
def mailbox_create(*, actor: Any = None, **data: Any) -> Mailbox:
    data["imap_url"] = _clean_imap_url(data.get("imap_url", ""))
    data["address"] = (data.get("address") or "").strip().lower()
    if Mailbox.objects.filter(address=data["address"]).exists():
        raise ValidationError({"address": ["Another mailbox has this address."]})
    mailbox = Mailbox.objects.create(**{k: v for k, v in data.items() if k in FIELDS})
    audit_created(actor=actor, instance=mailbox, fields=AUDITED, extra=_imap_change("", mailbox.imap_url))
    return mailbox


@transaction.atomic
def mailbox_update(*, mailbox: Mailbox, data: dict[str, Any], actor: Any = None) -> Mailbox:
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    before, old_url = audit_snapshot(mailbox, AUDITED), mailbox.imap_url
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
    audit_updated(actor=actor, instance=mailbox, before=before, extra=_imap_change(old_url, mailbox.imap_url))
    return mailbox
