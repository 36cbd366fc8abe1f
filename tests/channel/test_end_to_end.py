"""The whole channel with real parts: a real Celery worker and beat on Redis, an SMTP sink,
Dovecot, Chromium. An agent replies in the browser → the customer gets the mail → their
answer lands in the IMAP mailbox → within a poll it is their public comment on the same
incident, and the clock that waited on them runs again."""

import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from incidents import services
from incidents.models import Comment
from mail.models import InboundMessage, Mailbox
from sla.models import SLATimer

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker_mail_env(monkeypatch, smtp_sink, dovecot):
    """The worker (a subprocess) sends to the sink and polls every 2 s."""
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(smtp_sink.port))
    monkeypatch.setenv("MAIL_POLL_SECONDS", "2")
    return smtp_sink, dovecot


def _wait(predicate, timeout=40, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_reply_by_mail_round_trip_through_a_real_worker(
    worker_mail_env, celery_worker_process, org, contact, log_incident, page, live_server, login, screenshot,
    browser,
):  # fmt: skip
    sink, dovecot = worker_mail_env
    Mailbox.objects.create(
        name="Payments support", address="support@tandem.example", default_service=org.service,
        imap_url=dovecot.url,
    )  # fmt: skip
    incident = log_incident(
        title="Card payments fail at checkout", customer=org.customer, requester=contact, impact="high"
    )
    services.incident_take(incident=incident, actor=org.desk)
    sink.wait_for(1)  # the acknowledgement, sent by the worker

    login(page, org.desk)
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    page.get_by_label("Message").fill("Could you tell us which card scheme fails? Visa, Mastercard or both?")
    page.get_by_label("Public reply to the customer").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("networkidle")
    services.incident_transition(
        incident=incident,
        actor=org.desk,
        status="on_hold",
        reason="awaiting_customer",
        note="Asked the scheme.",
    )
    sent = sink.wait_for(2)[1]
    assert sent["Subject"] == f"[{incident.key}] Card payments fail at checkout"
    assert sent["To"] == "ana@northwind.example"
    assert SLATimer.objects.get(incident=incident, metric="resolution").state == "paused"
    reply_comment = Comment.objects.get(incident=incident, public=True, via="web")
    _wait(lambda: Comment.objects.get(pk=reply_comment.pk).delivery == "sent", what="delivery sent")

    answer = EmailMessage()
    answer["From"] = "Ana Lopez <ana@northwind.example>"
    answer["To"] = "support@tandem.example"
    answer["Subject"] = f"Re: {sent['Subject']}"
    answer["Message-ID"] = make_msgid(domain="northwind.example")
    answer["In-Reply-To"] = sent["Message-ID"]
    answer["References"] = f"{sent['References'] or ''} {sent['Message-ID']}".strip()
    answer.set_content(
        "Only Visa, since about 09:10.\n\nAna\n\n"
        "On Tue, support@tandem.example wrote:\n> Could you tell us which card"
    )
    dovecot.append(answer.as_bytes())

    comment = _wait(
        lambda: Comment.objects.filter(incident=incident, via="email").first(), what="the customer's comment"
    )
    assert comment.contact == contact and comment.public and comment.author is None
    assert (
        comment.body.startswith("Only Visa, since about 09:10.") and "Could you tell us" not in comment.body
    )
    incident.refresh_from_db()
    assert incident.status == "in_progress"
    assert SLATimer.objects.get(incident=incident, metric="resolution").state == "running"
    assert InboundMessage.objects.get().outcome == "comment"
    assert dovecot.unseen() == 0

    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    assert page.get_by_text("E-mailed to the customer").first.is_visible()
    assert page.get_by_text("via e-mail").first.is_visible()
    screenshot(page, "channel-timeline-mail-round-trip")

    manager_page = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/London")
    mp = manager_page.new_page()
    login(mp, org.manager)
    mp.goto(f"{live_server.url}/mail/log/")
    screenshot(mp, "channel-mail-log")
    assert mp.locator("td .badge", has_text="Added to an incident").is_visible()
    mp.goto(f"{live_server.url}/mail/mailboxes/")
    assert "imap-test-pw" not in mp.content()
    screenshot(mp, "channel-mailboxes")
    manager_page.close()
