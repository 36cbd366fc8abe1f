"""Attachments (SPEC §13): API multipart, browser reply with files, from and to e-mail; the
size limit, safe names, downloads only for those who may see the incident, image previews."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import services
from incidents.attachments import safe_name
from incidents.models import Attachment, Comment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


@pytest.fixture
def incident(log_incident, org, contact):
    return log_incident(customer=org.customer, requester=contact)


def _upload(api, incident, name, content, content_type="application/octet-stream", **extra):
    return api.post(
        f"/api/v1/incidents/{incident.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), **extra},
        format="multipart",
    )


def test_api_upload_list_and_download(api, org, incident):
    api.as_user(org.desk)
    r = _upload(api, incident, "report.pdf", b"%PDF-1.4 hello", "application/pdf")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert {"id", "name", "size", "content_type", "download_url"} <= set(body)
    assert body["name"] == "report.pdf" and body["size"] == 14 and body["content_type"] == "application/pdf"
    assert api.get(f"/api/v1/incidents/{incident.pk}/attachments/").json()["results"][0]["id"] == body["id"]
    download = api.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"%PDF-1.4 hello"
    # Stored through the storage API, under a directory of its own.
    assert Attachment.objects.get().file.name.startswith(f"attachments/{incident.pk}/")


def test_download_is_a_404_for_anyone_who_may_not_see_the_incident(api, org, incident):
    api.as_user(org.desk)
    url = _upload(api, incident, "a.txt", b"secret").json()["download_url"]
    assert api.as_user(org.norole).get(url).status_code == 404
    assert api.as_user(org.norole).get(f"/api/v1/incidents/{incident.pk}/attachments/").status_code == 403
    api.credentials()
    assert api.get(url).status_code == 401
    assert api.as_user(org.po).get(url).status_code == 200  # every role reads incidents
    assert (
        api.as_user(org.po)
        .post(
            f"/api/v1/incidents/{incident.pk}/attachments/",
            {"file": SimpleUploadedFile("b.txt", b"x")},
            format="multipart",
        )
        .status_code
        == 403
    )


def test_the_size_limit_is_a_400_with_a_message(api, org, incident, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    api.as_user(org.desk)
    r = _upload(api, incident, "big.bin", b"x" * 1025)
    assert r.status_code == 400 and "over the limit of" in r.json()["file"][0]
    assert not Attachment.objects.exists()
    assert _upload(api, incident, "ok.bin", b"x" * 1024).status_code == 201


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\shot.png", "shot.png"),
        (".htaccess", "htaccess"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("", "attachment"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_names_are_sanitised(given, kept):
    assert safe_name(given) == kept


def test_images_preview_inline_only_when_their_bytes_agree(api, org, incident):
    api.as_user(org.desk)
    png = _upload(api, incident, "shot.png", PNG, "image/png").json()
    fake = _upload(api, incident, "evil.png", b"<html><script>alert(1)</script>", "image/png").json()
    svg = _upload(api, incident, "logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml").json()
    r = api.get(f"/api/v1/attachments/{png['id']}/preview/")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]
    assert api.get(f"/api/v1/attachments/{fake['id']}/preview/").status_code == 404
    assert api.get(f"/api/v1/attachments/{svg['id']}/preview/").status_code == 404
    # Downloads are always attachments, never rendered.
    assert api.get(svg["download_url"])["Content-Type"] == "application/octet-stream"


def test_a_reply_with_files_in_the_browser_is_mailed_with_them(
    client, org, incident, smtp_sink, eager_tasks, mailbox, django_capture_on_commit_callbacks, api
):
    client.force_login(org.desk)
    url = reverse("incidents:action", kwargs={"key": incident.key, "name": "comment"})
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            url,
            {
                "comment-body": "The log you asked for.",
                "comment-visibility": "public",
                "comment-files": [
                    SimpleUploadedFile("gateway.log", b"502 at 09:12\n", content_type="text/plain"),
                    SimpleUploadedFile("shot.png", PNG, content_type="image/png"),
                ],
            },
        )
    assert r.status_code == 302
    comment = Comment.objects.get(body="The log you asked for.")
    assert sorted(a.name for a in comment.attachments.all()) == ["gateway.log", "shot.png"]
    sent = smtp_sink.wait_for(1)[-1]
    files = {p.get_filename(): p.get_content() for p in sent.iter_attachments()}
    assert files["gateway.log"].replace("\r\n", "\n") == "502 at 09:12\n" and files["shot.png"] == PNG
    page = client.get(reverse("incidents:detail", kwargs={"key": incident.key})).content.decode()
    png = comment.attachments.get(name="shot.png")
    assert f"/api/v1/attachments/{png.pk}/preview/" in page and "gateway.log" in page
    rows = api.as_user(org.desk).get(f"/api/v1/incidents/{incident.pk}/comments/").json()["results"]
    assert sorted(next(r for r in rows if r["id"] == comment.pk)["attachments"]) == sorted(
        a.pk for a in comment.attachments.all()
    )


def test_an_oversized_file_in_the_reply_form_keeps_the_message(client, org, incident, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    client.force_login(org.desk)
    url = reverse("incidents:action", kwargs={"key": incident.key, "name": "comment"})
    r = client.post(url, {"comment-body": "See file", "comment-visibility": "internal",
                          "comment-files": SimpleUploadedFile("big.bin", b"x" * 11)})  # fmt: skip
    assert r.status_code == 400
    assert "over the limit" in r.content.decode() and "See file" in r.content.decode()
    assert not Comment.objects.filter(body="See file").exists()


def test_files_mailed_in_are_kept_and_oversized_ones_noted(
    org, contact, imap_mailbox, dovecot, settings, incident
):
    from mail.imap import mailbox_poll

    settings.ATTACHMENT_MAX_BYTES = 1000
    msg = EmailMessage()
    msg["From"] = "Ana Lopez <ana@northwind.example>"
    msg["To"] = "support@tandem.example"
    msg["Subject"] = f"Re: [{incident.key}] screenshots"
    msg["Message-ID"] = make_msgid()
    msg.set_content("Here they are.")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="../error.png")
    msg.add_attachment(b"x" * 2000, maintype="application", subtype="zip", filename="dump.zip")
    dovecot.append(msg.as_bytes())
    assert mailbox_poll(mailbox=imap_mailbox) == {"comment": 1}
    comment = Comment.objects.get(via="email")
    assert [a.name for a in comment.attachments.all()] == ["error.png"]
    assert comment.attachments.get().contact == contact
    assert "dump.zip was not kept" in comment.body
    services.incident_comment(incident=incident, actor=org.desk, body="thanks", public=False)
