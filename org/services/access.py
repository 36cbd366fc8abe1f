"""Contacts' portal access (SPEC §15): invitations, activation, removal.

A contact is invited by e-mail to `/portal/activate/<token>/`, chooses a password there and
from then on signs in with their e-mail address as the username. Their account is a plain
Django user linked from the contact (`Contact.user`) with no staff role; the portal app
fences such accounts into `/portal/` and `/api/v1/portal/`.

Tokens: `<invitation id>:<nonce>:<signature>`, signed with SECRET_KEY by Django's signing
(salted for this use), so they cannot be guessed or made up; the random nonce kept on the
row lets the mail task build the link again without storing the link itself. A token works
once (`used_at`, set under the row lock), until `expires_at` (PORTAL_INVITE_MAX_AGE), and a
newer invitation revokes the older ones.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from tracker.exceptions import DomainError
from tracker.tasks import enqueue

from ..models import Contact, PortalInvitation

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser | None

TOKEN_SALT = "org.portal-invitation"  # noqa: S105 - a signing salt, not a secret
AUDIT_NAME = "org.contact"


class InvitationInvalid(DomainError):
    """The link is unknown, used, revoked or expired (the page says which, in plain words)."""

    code = "invitation_invalid"


def _signer() -> signing.Signer:
    return signing.Signer(salt=TOKEN_SALT)


def invitation_token(invitation: PortalInvitation) -> str:
    return _signer().sign(f"{invitation.pk}:{invitation.nonce}")


def invitation_url(invitation: PortalInvitation) -> str:
    path = reverse("portal:activate", kwargs={"token": invitation_token(invitation)})
    base: str = settings.TANDEM_BASE_URL
    return base.rstrip("/") + path


def _username_taken(email: str, contact: Contact) -> bool:
    qs = User.objects.filter(username__iexact=email)
    if contact.user_id:
        qs = qs.exclude(pk=contact.user_id)
    return qs.exists()


def _audit(contact: Contact, actor: Actor, old: str, new: str, at: datetime) -> None:
    audit_record(
        actor=actor,
        model=AUDIT_NAME,
        object_id=contact.pk,
        action="updated",
        changes={"portal_access": [old, new]},
        object_repr=str(contact),
        at=at,
    )


def portal_state(contact: Contact, *, at: datetime | None = None) -> str:
    """ "active", "disabled", "invited", "expired" or "" (never invited). Reads the contact's
    invitations newest first (prefetch them for a list)."""
    at = at or timezone.now()
    if contact.user_id:
        return "active" if contact.user and contact.user.is_active else "disabled"
    latest = next(iter(contact.invitations.all()), None)
    if latest is None or latest.revoked_at is not None:
        return ""
    return "invited" if latest.is_open_at(at) else "expired"


@transaction.atomic
def contact_invite(*, contact: Contact, actor: Actor, at: datetime | None = None) -> PortalInvitation:
    """A new invitation (the older open ones revoked), e-mailed after commit."""
    at = at or timezone.now()
    contact = (
        Contact.objects.select_for_update(of=("self",)).select_related("user", "customer").get(pk=contact.pk)
    )
    if contact.user_id and contact.user is not None and contact.user.is_active:
        raise DomainError(
            f"{contact.name} already has a portal account; they can reset their password from the "
            "sign-in page.",
            code="already_active",
        )
    if _username_taken(contact.email, contact):
        raise DomainError(
            f"{contact.email} already signs in to Tandem with another account; one address is one account.",
            code="address_taken",
        )
    before = portal_state(contact, at=at)
    contact.invitations.filter(used_at=None, revoked_at=None).update(revoked_at=at)
    invitation = PortalInvitation.objects.create(
        contact=contact,
        nonce=secrets.token_urlsafe(24),
        invited_by=actor if isinstance(actor, User) else None,
        created_at=at,
        expires_at=at + timedelta(seconds=settings.PORTAL_INVITE_MAX_AGE),
    )
    _audit(contact, actor, before, "invited", at)
    from ..tasks import portal_invitation_send  # cycle: org.tasks imports this module

    transaction.on_commit(lambda: _enqueue(portal_invitation_send, invitation.pk))
    return invitation


def _enqueue(task: Any, *args: Any) -> None:
    enqueue(task, *args)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped


def invitation_for_token(token: str, *, at: datetime | None = None) -> PortalInvitation:
    """The open invitation the link names, or InvitationInvalid saying why not."""
    at = at or timezone.now()
    try:
        pk, nonce = _signer().unsign(token or "").split(":", 1)
        invitation = PortalInvitation.objects.select_related("contact", "contact__customer").get(pk=int(pk))
    except (signing.BadSignature, ValueError, PortalInvitation.DoesNotExist):
        raise InvitationInvalid("This invitation link is not valid. Ask support for a new one.") from None
    if not secrets.compare_digest(invitation.nonce, nonce):
        raise InvitationInvalid("This invitation link is not valid. Ask support for a new one.")
    if invitation.used_at is not None:
        raise InvitationInvalid("This invitation was already used. Sign in with your e-mail address.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was replaced by a newer one; use the latest e-mail.")
    if at >= invitation.expires_at:
        raise InvitationInvalid("This invitation has expired. Ask support for a new one.")
    return invitation


@transaction.atomic
def contact_activate(
    *,
    token: str,
    password: str,
    password_again: str | None = None,
    time_zone: str = "",
    at: datetime | None = None,
) -> User:
    """Accept an invitation: the contact's portal account, with the password they chose."""
    at = at or timezone.now()
    found = invitation_for_token(token, at=at)
    invitation = PortalInvitation.objects.select_for_update().get(pk=found.pk)
    invitation_for_token(token, at=at)  # again, under the lock: a second use waits and fails here
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=invitation.contact_id)
    )
    errors: dict[str, list[str]] = {}
    if password_again is not None and password != password_again:
        errors["password_again"] = ["The two passwords differ."]
    if _username_taken(contact.email, contact):
        raise DomainError(
            f"{contact.email} already signs in to Tandem with another account. Ask support.",
            code="address_taken",
        )
    user = contact.user or User(username=contact.email)
    user.username = contact.email
    user.email = contact.email
    user.first_name = contact.name[:150]
    user.is_active = True
    user.is_staff = False
    user.is_superuser = False
    if time_zone:
        user.time_zone = time_zone
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if time_zone:
        try:
            user.full_clean(validate_unique=False, exclude=["password", "username", "email"])
        except ValidationError as exc:
            errors.update({k: v for k, v in exc.message_dict.items() if k == "time_zone"})
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    user.groups.clear()  # a contact's account never holds a staff role
    contact.user = user
    contact.save(update_fields=["user"])
    invitation.used_at = at
    invitation.save(update_fields=["used_at"])
    contact.invitations.filter(used_at=None, revoked_at=None).update(revoked_at=at)
    _audit(contact, None, "invited", "active", at)
    return user


@transaction.atomic
def contact_portal_disable(*, contact: Contact, actor: Actor, at: datetime | None = None) -> Contact:
    """Remove a contact's portal access: the account is deactivated, open invitations revoked."""
    at = at or timezone.now()
    contact = Contact.objects.select_for_update(of=("self",)).select_related("user").get(pk=contact.pk)
    before = portal_state(contact, at=at)
    if not before or before in ("disabled",):
        raise DomainError(f"{contact.name} has no portal access to remove.", code="no_portal_access")
    if contact.user is not None:
        User.objects.filter(pk=contact.user.pk).update(is_active=False)
        contact.user.is_active = False
    contact.invitations.filter(used_at=None, revoked_at=None).update(revoked_at=at)
    _audit(contact, actor, before, "disabled", at)
    return contact


@transaction.atomic
def contact_sync_account(*, contact: Contact) -> None:
    """A contact's new address is their new sign-in name (called by contact_update)."""
    if not contact.user_id:
        return
    if _username_taken(contact.email, contact):
        raise ValidationError({"email": [f"{contact.email} already signs in with another account."]})
    User.objects.filter(pk=contact.user_id).update(username=contact.email, email=contact.email)


def invitation_send(*, invitation_id: int) -> str:
    """E-mail one invitation (called by the task): "sent", "skipped" (used, revoked, already
    sent) or raises the send's error after recording it on the row (the task retries)."""
    invitation = (
        PortalInvitation.objects.select_related("contact", "contact__customer", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.sent_at or not invitation.is_open_at(timezone.now()):
        return "skipped"
    contact = invitation.contact
    context = {
        "contact": contact,
        "customer": contact.customer,
        "url": invitation_url(invitation),
        "expires_at": invitation.expires_at,
        "login_url": settings.TANDEM_BASE_URL.rstrip("/") + reverse("portal:login"),
        "support_address": settings.DEFAULT_FROM_EMAIL,
    }
    message = EmailMultiAlternatives(
        subject="Your support portal account",
        body=render_to_string("portal/mail/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("portal/mail/invitation.html", context), "text/html")
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
    except Exception as exc:
        PortalInvitation.objects.filter(pk=invitation.pk).update(
            send_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        logger.warning("invitation %s not sent: %s", invitation.pk, exc)
        raise
    PortalInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now(), send_error="")
    return "sent"
