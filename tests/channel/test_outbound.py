"""Outbound mail (SPEC §13) read back from a real SMTP server: acknowledgement, replies and
resolution threaded by Message-ID, text and HTML parts, retries and a visible failure."""

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Comment
from mail.models import OutboundMail
from mail.outbound import outbound_due, outbound_send
from org.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(org, contact, mailbox, log_incident, smtp_sink, eager_tasks, django_capture_on_commit_callbacks):
    copy = Contact.objects.create(customer=org.customer, name="Carl", email="carl@northwind.example")
    with django_capture_on_commit_callbacks(execute=True):
        incident = log_incident(customer=org.customer, requester=contact, cc=[copy])
    return incident


def _parts(message):
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_acknowledgement_then_reply_threaded_with_both_parts(
    ticket, org, smtp_sink, api, django_capture_on_commit_callbacks
):
    ack = smtp_sink.wait_for(1)[0]
    assert ack["Subject"] == f"[{ticket.key}] {ticket.title}"
    assert ack["Auto-Submitted"] == "auto-generated"
    assert "support@tandem.example" in ack["From"] and ack["Reply-To"] == "support@tandem.example"
    assert ack["To"] == "ana@northwind.example" and ack["Cc"] == "carl@northwind.example"
    ack_id = ack["Message-ID"]
    assert OutboundMail.objects.get(kind="ack").message_id == ack_id

    with django_capture_on_commit_callbacks(execute=True):
        comment = services.incident_comment(
            incident=ticket, actor=org.desk, body="We restarted the gateway.\nPlease try again.", public=True
        )
    reply = smtp_sink.wait_for(2)[1]
    assert reply["Subject"] == f"[{ticket.key}] {ticket.title}"
    assert reply["In-Reply-To"] == ack_id and ack_id in reply["References"]
    assert reply["Auto-Submitted"] is None  # a person wrote it
    parts = _parts(reply)
    assert "We restarted the gateway." in parts["text/plain"]
    assert "<p>We restarted the gateway.<br>Please try again.</p>" in parts["text/html"]
    assert f"[{ticket.key}]" in parts["text/plain"]  # how to answer
    assert smtp_sink.envelopes[1][1] == ["ana@northwind.example", "carl@northwind.example"]
    mail = OutboundMail.objects.get(comment=comment)
    assert mail.message_id == reply["Message-ID"] and mail.state == "sent"

    rows = api.as_user(org.desk).get(f"/api/v1/incidents/{ticket.pk}/comments/").json()["results"]
    row = next(r for r in rows if r["id"] == comment.pk)
    assert row["delivery"] == "sent" and row["via"] == "web" and row["contact"] is None
    assert row["author"] == org.desk.pk
    assert {"id", "body", "public", "author", "contact", "via", "created_at", "delivery"} <= set(row)

    # A third mail threads onto both earlier ones.
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_comment(incident=ticket, actor=org.desk, body="Any news?", public=True, via="api")
    third = smtp_sink.wait_for(3)[2]
    assert third["In-Reply-To"] == reply["Message-ID"]
    assert third["References"].split() == [ack_id, reply["Message-ID"]]


def test_internal_notes_and_incidents_without_requester_send_nothing(
    org, mailbox, log_incident, smtp_sink, eager_tasks, django_capture_on_commit_callbacks, ticket
):
    smtp_sink.wait_for(1)
    with django_capture_on_commit_callbacks(execute=True):
        note = services.incident_comment(incident=ticket, actor=org.desk, body="internal", public=False)
        lone = log_incident()
        reply = services.incident_comment(incident=lone, actor=org.desk, body="to nobody", public=True)
    assert note.delivery == "" and Comment.objects.get(pk=reply.pk).delivery == ""
    assert OutboundMail.objects.count() == 1
    assert len(smtp_sink.messages) == 1


def test_resolution_mail_says_reply_to_reopen(ticket, org, smtp_sink, django_capture_on_commit_callbacks):
    smtp_sink.wait_for(1)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_transition(
            incident=ticket, actor=org.manager, status="resolved", resolution_code="fixed",
            note="The gateway certificate was renewed.",
        )  # fmt: skip
    mail = smtp_sink.wait_for(2)[1]
    assert mail["Auto-Submitted"] == "auto-generated"
    text = _parts(mail)["text/plain"]
    assert "The gateway certificate was renewed." in text and "to reopen it" in text


def test_nothing_is_sent_when_the_transaction_rolls_back(
    org, contact, mailbox, log_incident, smtp_sink, eager_tasks, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        log_incident(customer=org.customer, requester=contact)
        raise RuntimeError("rolled back")
    assert callbacks == [] and not OutboundMail.objects.exists()


def test_a_failing_server_is_retried_then_failed_visibly_and_resent(
    ticket, org, smtp_sink, settings, client, django_capture_on_commit_callbacks
):
    smtp_sink.wait_for(1)
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens: connection refused
    settings.MAIL_SEND_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.incident_comment(incident=ticket, actor=org.desk, body="Fixed?", public=True)
    mail = OutboundMail.objects.get(comment=comment)
    comment.refresh_from_db()
    # Eager tasks run the backoff retries at once: three attempts, then failed.
    assert mail.attempts == 3 and mail.state == "failed" and "Connection" in mail.last_error
    assert comment.delivery == "failed" and comment.delivery_error

    client.force_login(org.desk)
    page = client.get(reverse("incidents:detail", kwargs={"key": ticket.key})).content.decode()
    assert "E-mail failed" in page and "Send again" in page

    settings.EMAIL_PORT = good_port
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("mail:comment_resend", kwargs={"comment": comment.pk}))
    assert r.status_code == 302
    comment.refresh_from_db()
    assert comment.delivery == "sent" and len(smtp_sink.wait_for(2)) == 2
    page = client.get(reverse("incidents:detail", kwargs={"key": ticket.key})).content.decode()
    assert "E-mailed to the customer" in page
    # Resending a sent mail is refused, not sent twice.
    client.post(reverse("mail:comment_resend", kwargs={"comment": comment.pk}))
    assert len(smtp_sink.messages) == 2


def test_a_retry_still_pending_shows_the_error(
    ticket, org, smtp_sink, settings, django_capture_on_commit_callbacks
):
    from tracker.celery import app

    smtp_sink.wait_for(1)
    settings.EMAIL_PORT = 1
    app.conf.task_always_eager = False  # the retry is published, not run
    with django_capture_on_commit_callbacks(execute=False):
        comment = services.incident_comment(incident=ticket, actor=org.desk, body="Fixed?", public=True)
    mail = OutboundMail.objects.get(comment=comment)
    assert outbound_send(outbound_id=mail.pk) == "retry"
    comment.refresh_from_db()
    assert comment.delivery == "pending" and comment.delivery_error.startswith("Attempt 1 failed, retrying")


def test_sending_twice_sends_once_and_the_sweep_finds_lost_publishes(
    org, contact, mailbox, log_incident, smtp_sink, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):  # the publish is "lost"
        log_incident(customer=org.customer, requester=contact)
    mail = OutboundMail.objects.get()
    assert outbound_due() == []  # too fresh: its task may still be on the way
    assert outbound_due(now=timezone.now() + timedelta(minutes=5)) == [mail.pk]
    assert outbound_send(outbound_id=mail.pk) == "sent"
    assert outbound_send(outbound_id=mail.pk) == "skipped"
    assert len(smtp_sink.wait_for(1)) == 1
    assert outbound_due(now=timezone.now() + timedelta(minutes=5)) == []


def test_the_embedded_default_writes_mail_to_var_mail():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env["DJANGO_SETTINGS_MODULE"] = "tracker.settings.local"
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)"],  # noqa: E501
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    backend, path = out.split()
    assert backend == "django.core.mail.backends.filebased.EmailBackend" and path.endswith("var/mail")
