"""Mailboxes and the mail log for managers: API (the password is never returned) and pages."""

import pytest
from django.urls import reverse

from mail.models import InboundMessage, Mailbox

pytestmark = pytest.mark.django_db


def test_mailbox_api_never_returns_the_password_and_keeps_it(api, org):
    api.as_user(org.manager)
    r = api.post(
        "/api/v1/mailboxes/",
        {"name": "Support", "address": "Support@Tandem.example", "imap_url": "imaps://bot:s3cret@imap.example:993",
         "default_service": org.service.pk},
    )  # fmt: skip
    assert r.status_code == 201, r.json()
    body = r.json()
    assert {"id", "name", "address", "imap_url", "folder", "default_service", "active"} <= set(body)
    assert body["imap_url"] == "imaps://bot@imap.example:993" and body["folder"] == "INBOX"
    assert "s3cret" not in r.content.decode()
    assert "s3cret" not in api.get("/api/v1/mailboxes/").content.decode()
    # PATCH with the address as shown keeps the stored password; a new one replaces it.
    r = api.patch(f"/api/v1/mailboxes/{body['id']}/", {"imap_url": body["imap_url"], "folder": "Support"})
    assert r.status_code == 200 and r.json()["folder"] == "Support"
    assert Mailbox.objects.get().imap_url == "imaps://bot:s3cret@imap.example:993"
    api.patch(f"/api/v1/mailboxes/{body['id']}/", {"imap_url": "imaps://bot:n3w@imap.example:993"})
    assert Mailbox.objects.get().imap_url == "imaps://bot:n3w@imap.example:993"
    bad = api.patch(f"/api/v1/mailboxes/{body['id']}/", {"imap_url": "http://nope"})
    assert bad.status_code == 400 and "imap_url" in bad.json()


def test_mailboxes_and_mail_log_are_for_managers(api, org):
    for user in (org.desk, org.engineer, org.po):
        assert api.as_user(user).get("/api/v1/mailboxes/").status_code == 403
        assert api.as_user(user).get("/api/v1/mail-log/").status_code == 403
    assert api.as_user(org.manager).get("/api/v1/mail-log/").status_code == 200


def test_mailbox_settings_page_add_then_edit_twice(client, org):
    client.force_login(org.manager)
    url = reverse("mail:mailboxes")
    data = {"name": "Support", "address": "support@tandem.example", "folder": "INBOX",
            "imap_url": "imap://bot:pw1@127.0.0.1:1143", "default_service": org.service.pk, "active": "on",
            "acknowledge": "on"}  # fmt: skip
    r = client.post(url, {**data, "address": "not-an-address"})
    assert r.status_code == 400 and 'value="Support"' in r.content.decode()
    assert client.post(url, data).status_code == 302
    box = Mailbox.objects.get()
    edit = reverse("mail:mailbox_edit", kwargs={"pk": box.pk})
    page = client.get(edit).content.decode()
    assert "pw1" not in page and 'value="imap://bot@127.0.0.1:1143"' in page
    # Re-save the form as shown (password not retyped): it is kept, the change saved; twice.
    for folder in ("Support", "Support2"):
        assert (
            client.post(edit, {**data, "imap_url": "imap://bot@127.0.0.1:1143", "folder": folder}).status_code
            == 302
        )
        box.refresh_from_db()
        assert box.imap_url == "imap://bot:pw1@127.0.0.1:1143" and box.folder == folder
    assert client.get(url).status_code == 200
    client.force_login(org.desk)
    assert client.get(url).status_code == 403


def test_mail_log_page_lists_and_retries(client, org, contact, imap_mailbox):
    from mail.inbound import inbound_process

    raw = b"From: x@nowhere.example\r\nSubject: Help\r\nMessage-ID: <a1@nowhere.example>\r\n\r\nHi\r\n"
    row = inbound_process(mailbox=imap_mailbox, imap_key="1:1", raw=raw)
    assert row.outcome == "failed"
    client.force_login(org.manager)
    page = client.get(reverse("mail:log")).content.decode()
    assert "x@nowhere.example" in page and "Retry" in page and "no contact of any customer" in page
    assert "Failed" in client.get(reverse("mail:log"), {"outcome": "failed"}).content.decode()
    imap_mailbox.default_customer = org.customer
    imap_mailbox.save()
    r = client.post(reverse("mail:log_retry", kwargs={"pk": row.pk}))
    assert r.status_code == 302
    assert InboundMessage.objects.get().outcome == "incident"
    original = client.get(reverse("mail:original", kwargs={"pk": row.pk}))
    assert (
        original["Content-Disposition"].startswith("attachment")
        and original["X-Content-Type-Options"] == "nosniff"
    )
    assert original.content == raw
    client.force_login(org.desk)
    assert client.get(reverse("mail:log")).status_code == 403
    assert client.get(reverse("mail:original", kwargs={"pk": row.pk})).status_code == 200  # on an incident


def test_mailbox_changes_are_audited_without_the_password(api, org):
    from audit.models import AuditEntry

    api.as_user(org.manager)
    body = {"name": "Support", "address": "support@tandem.example", "default_service": org.service.pk,
            "imap_url": "imaps://bot:s3cret@imap.example:993"}  # fmt: skip
    pk = api.post("/api/v1/mailboxes/", body).json()["id"]
    api.patch(
        f"/api/v1/mailboxes/{pk}/", {"imap_url": "imaps://bot:n3w@imap.example:993", "folder": "Support"}
    )
    api.patch(f"/api/v1/mailboxes/{pk}/", {"folder": "Support"})  # no change, no row
    rows = list(AuditEntry.objects.filter(model="mail.mailbox", object_id=str(pk)).order_by("id"))
    assert [r.action for r in rows] == ["created", "updated"] and rows[0].actor_id == org.manager.pk
    assert rows[0].changes["imap_url"] == [None, "imaps://bot@imap.example:993"]
    assert rows[1].changes["folder"] == ["INBOX", "Support"] and rows[1].changes["imap_password"]
    assert "s3cret" not in str([r.changes for r in rows]) and "n3w" not in str([r.changes for r in rows])
