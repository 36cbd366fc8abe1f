"""Portal accounts: invitations (single use, expiry, unguessable), activation, sign-in with
the e-mail address (throttled like staff sign-in), password reset, the staff contact page."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from org.models import PortalInvitation
from org.services import (
    InvitationInvalid,
    contact_activate,
    contact_create,
    contact_invite,
    invitation_for_token,
    invitation_token,
)
from tests.factories import UserFactory
from tracker.exceptions import DomainError

from .conftest import PORTAL_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def dora(org):
    return contact_create(customer=org.customer, name="Dora Diaz", email="Dora@Northwind.example")


def _link_in(message) -> str:
    return re.search(r"/portal/activate/(\S+?)/", message.body).group(1)


def test_invitation_mail_goes_by_smtp_and_its_link_activates_once(
    org, dora, smtp_sink, eager_tasks, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with_mail = contact_invite(contact=dora, actor=org.desk)
    received = smtp_sink.wait_for(1)[0]
    assert received["To"] == "dora@northwind.example"
    assert received["Auto-Submitted"] == "auto-generated"
    body = received.get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"/portal/activate/(\S+?)/", body).group(1)
    assert token == invitation_token(with_mail)
    with_mail.refresh_from_db()
    assert with_mail.sent_at is not None

    page = client.get(reverse("portal:activate", args=[token]))
    assert page.status_code == 200 and b"Dora Diaz" in page.content
    done = client.post(
        reverse("portal:activate", args=[token]),
        {"password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD, "time_zone": "Europe/Madrid"},
    )
    assert done.status_code == 302 and done["Location"] == reverse("portal:home")
    dora.refresh_from_db()
    assert dora.user.username == "dora@northwind.example"
    assert dora.user.time_zone == "Europe/Madrid"
    assert not dora.user.groups.exists() and not dora.user.is_staff
    assert client.get(reverse("portal:home")).status_code == 200  # signed in

    client.logout()
    again = client.get(reverse("portal:activate", args=[token]))
    assert again.status_code == 404 and b"already used" in again.content
    with pytest.raises(InvitationInvalid, match="already used"):
        contact_activate(token=token, password="Another-pass-99")


def test_weak_password_is_refused_next_to_the_field_and_the_link_still_works(org, dora, client):
    token = invitation_token(contact_invite(contact=dora, actor=org.desk))
    url = reverse("portal:activate", args=[token])
    bad = client.post(url, {"password": "12345678", "password_again": "12345678"})
    assert bad.status_code == 400
    assert b"entirely numeric" in bad.content
    differ = client.post(url, {"password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD + "x"})
    assert differ.status_code == 400 and b"The two passwords differ" in differ.content
    assert (
        client.post(url, {"password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD}).status_code == 302
    )


def test_invitation_expires(org, dora, settings):
    settings.PORTAL_INVITE_MAX_AGE = 3600
    at = timezone.now()
    invitation = contact_invite(contact=dora, actor=org.desk, at=at)
    token = invitation_token(invitation)
    assert invitation_for_token(token, at=at + timedelta(minutes=59)) == invitation
    with pytest.raises(InvitationInvalid, match="expired"):
        invitation_for_token(token, at=at + timedelta(hours=1))
    with pytest.raises(InvitationInvalid, match="expired"):
        contact_activate(token=token, password=PORTAL_PASSWORD, at=at + timedelta(hours=2))


def test_tokens_are_not_guessable(org, dora):
    invitation = contact_invite(contact=dora, actor=org.desk)
    token = invitation_token(invitation)
    pk, nonce, signature = token.split(":")
    assert len(nonce) >= 32 and len(signature) >= 40
    forged = [
        f"{pk}:{nonce}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # signature changed
        f"{pk}:{'x' * len(nonce)}:{signature}",  # another nonce, same signature
        f"{int(pk) + 1}:{nonce}:{signature}",  # another invitation
        f"{pk}:{nonce}",  # unsigned
        "",
        "garbage",
    ]
    for token_try in forged:
        with pytest.raises(InvitationInvalid, match="not valid"):
            invitation_for_token(token_try)
    # the nonce alone is useless without SECRET_KEY: a token signed with another key fails
    from django.core import signing

    other = signing.Signer(key="not-the-secret", salt="org.portal-invitation").sign(f"{pk}:{nonce}")
    with pytest.raises(InvitationInvalid):
        invitation_for_token(other)
    # two invitations never share a token
    second = contact_invite(contact=dora, actor=org.desk)
    assert invitation_token(second) != token


def test_a_newer_invitation_revokes_the_older_link(org, dora):
    first = contact_invite(contact=dora, actor=org.desk)
    second = contact_invite(contact=dora, actor=org.desk)
    with pytest.raises(InvitationInvalid, match="replaced by a newer one"):
        invitation_for_token(invitation_token(first))
    assert invitation_for_token(invitation_token(second)) == second


def test_no_second_account_and_no_taken_address(org, dora):
    contact_activate(
        token=invitation_token(contact_invite(contact=dora, actor=org.desk)), password=PORTAL_PASSWORD
    )
    with pytest.raises(DomainError) as already:
        contact_invite(contact=dora, actor=org.desk)
    assert already.value.code == "already_active"
    UserFactory(username="eve@northwind.example")
    eve = contact_create(customer=org.customer, name="Eve", email="eve@northwind.example")
    with pytest.raises(DomainError) as taken:
        contact_invite(contact=eve, actor=org.desk)
    assert taken.value.code == "address_taken"


def test_invite_api(org, dora, api):
    url = f"/api/v1/contacts/{dora.pk}/invite/"
    with_mail = api.as_user(org.desk).post(url)
    assert with_mail.status_code == 201, with_mail.content
    assert with_mail.json()["contact"] == dora.pk and with_mail.json()["state"] == "invited"
    assert PortalInvitation.objects.filter(contact=dora, used_at=None, revoked_at=None).count() == 1
    assert api.get(f"/api/v1/contacts/{dora.pk}/").json()["portal"] == "invited"
    assert api.as_user(org.po).post(url).status_code == 403  # product owners do not keep contacts


def test_contact_page_invites_and_shows_the_state(
    org, dora, client, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(org.desk)
    page = reverse("customers:detail", args=[org.customer.pk])
    assert b"not invited" in client.get(page).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:contact_portal", args=[dora.pk]), {"action": "invite"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dora@northwind.example"]
    shown = client.get(page).content.decode()
    assert "Portal:" in shown and "invited" in shown and "Invite again" in shown
    token = _link_in(mail.outbox[0])
    contact_activate(token=token, password=PORTAL_PASSWORD)
    shown = client.get(page).content.decode()
    assert "<strong>active</strong>" in shown and "Invite again" not in shown
    client.post(reverse("customers:contact_portal", args=[dora.pk]), {"action": "admin_on"})
    dora.refresh_from_db()
    assert dora.is_customer_admin
    client.post(reverse("customers:contact_portal", args=[dora.pk]), {"action": "disable"})
    dora.refresh_from_db()
    assert dora.user.is_active is False
    client.force_login(org.po)
    assert (
        client.post(reverse("customers:contact_portal", args=[dora.pk]), {"action": "invite"}).status_code
        == 403
    )


# ------------------------------------------------------------------ signing in
def test_sign_in_with_the_e_mail_on_the_page_and_the_token_endpoint(people, client, api):
    login = client.post(
        reverse("portal:login"), {"username": "ANA@Northwind.example", "password": PORTAL_PASSWORD}
    )
    assert login.status_code == 302 and login["Location"] == reverse("portal:home")
    token = api.post(
        "/api/v1/auth/token/", {"username": "ana@northwind.example", "password": PORTAL_PASSWORD}
    )
    assert token.status_code == 200 and token.json()["token"]


def test_staff_cannot_sign_in_to_the_portal(people, client):
    from tests.factories import PASSWORD

    response = client.post(reverse("portal:login"), {"username": "desk", "password": PASSWORD})
    assert response.status_code == 200 and b"This sign-in is for customers" in response.content


def test_portal_login_is_throttled_like_staff_login(people, client):
    url = reverse("portal:login")
    for _ in range(10):
        client.post(url, {"username": "ana@northwind.example", "password": "wrong-guess"})
    blocked = client.post(url, {"username": "ana@northwind.example", "password": PORTAL_PASSWORD})
    assert blocked.status_code == 200 and b"Too many failed sign-in attempts" in blocked.content
    assert "_auth_user_id" not in client.session
    # the same counters as the staff page and the token endpoint
    from rest_framework.test import APIClient

    api = APIClient()
    refused = api.post(
        "/api/v1/auth/token/", {"username": "ana@northwind.example", "password": PORTAL_PASSWORD}
    )
    assert refused.status_code == 429


def test_password_reset_by_mail(people, client, eager_tasks):
    response = client.post(reverse("portal:password_reset"), {"email": "ana@northwind.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"(/portal/password/reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "Green-meadow-77", "new_password2": "Green-meadow-77"}
    )
    assert done.status_code == 302
    assert client.login(username="ana@northwind.example", password="Green-meadow-77")
    client.logout()
    reused = client.get(link, follow=True)
    assert b"This link does not work" in reused.content
    # staff addresses get no portal reset mail (and the page says the same either way)
    mail.outbox.clear()
    assert (
        client.post(
            reverse("portal:password_reset"), {"email": people.org.desk.email or "desk@x.example"}
        ).status_code
        == 302
    )
    assert mail.outbox == []


def test_admin_edits_the_customer_admin_flag_and_shows_the_account_read_only(people, client):
    client.force_login(people.org.admin)
    url = reverse("admin:org_contact_change", args=[people.ana.pk])
    page = client.get(url).content.decode()
    assert 'name="is_customer_admin"' in page and 'name="user"' not in page
    data = {"customer": people.a.pk, "name": "Ana Lopez", "email": "ana@northwind.example", "phone": ""}
    assert client.post(url, {**data, "is_customer_admin": "on"}).status_code == 302
    people.ana.refresh_from_db()
    assert people.ana.is_customer_admin and people.ana.user == people.ana_user
