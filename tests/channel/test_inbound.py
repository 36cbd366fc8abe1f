"""Inbound mail (SPEC §13) through a real Dovecot and the real poller: threading, routing and
SLA effects, exactly once, automatic mail ignored, failures kept and retried."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Comment, Incident
from mail.imap import mailbox_poll
from mail.inbound import inbound_process
from mail.models import InboundMessage, Mailbox, OutboundMail
from mail.tasks import mail_poll
from org.models import Contact
from sla.models import SLATimer

pytestmark = pytest.mark.django_db


def mail(
    *, sender="Ana Lopez <ana@northwind.example>", subject="Checkout broken", body="It fails.", headers=None,
    html=None, message_id=None,
) -> bytes:  # fmt: skip
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@tandem.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="northwind.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


@pytest.fixture
def replied(
    org, contact, imap_mailbox, log_incident, smtp_sink, eager_tasks, django_capture_on_commit_callbacks
):
    """An incident whose requester got the agent's reply, now on hold awaiting the customer."""
    with django_capture_on_commit_callbacks(execute=True):
        incident = log_incident(customer=org.customer, requester=contact)
        services.incident_take(incident=incident, actor=org.desk)
        services.incident_comment(incident=incident, actor=org.desk, body="Which browser?", public=True)
        services.incident_transition(
            incident=incident, actor=org.desk, status="on_hold", reason="awaiting_customer", note="Asked."
        )
    sent = smtp_sink.wait_for(2)
    return incident, sent[-1]


def _reply_to(sent, *, body="Chrome 120.\n\nOn Monday Tandem wrote:\n> Which browser?\n> --\n> Reply", **kw):
    ids = {"In-Reply-To": sent["Message-ID"], "References": sent["Message-ID"]}
    return mail(subject=f"Re: {sent['Subject']}", body=body, headers=ids, **kw)


def test_a_reply_becomes_the_contacts_comment_and_resumes_the_clock(
    replied, dovecot, imap_mailbox, contact, django_capture_on_commit_callbacks
):
    incident, sent = replied
    timer = SLATimer.objects.get(incident=incident, metric="resolution")
    assert timer.state == "paused"
    dovecot.append(_reply_to(sent))
    with django_capture_on_commit_callbacks(execute=True):
        counts = mailbox_poll(mailbox=imap_mailbox)
    assert counts == {"comment": 1}
    comment = Comment.objects.filter(incident=incident).order_by("-id").first()
    assert comment.contact == contact and comment.author is None and comment.via == "email" and comment.public
    assert comment.body == "Chrome 120."  # the quoted history is stripped
    incident.refresh_from_db()
    assert incident.status == "in_progress"
    timer.refresh_from_db()
    assert timer.state == "running"
    row = InboundMessage.objects.get()
    assert row.outcome == "comment" and row.incident == incident and row.comment == comment
    assert b"Which browser?" in bytes(row.raw)  # the full original is kept
    assert dovecot.unseen() == 0  # flagged after commit
    # A second poll finds nothing new.
    assert mailbox_poll(mailbox=imap_mailbox) == {}
    assert Comment.objects.filter(incident=incident, via="email").count() == 1


def test_threading_by_any_reference_then_by_the_key_in_the_subject(replied, dovecot, imap_mailbox):
    incident, sent = replied
    other = "<unrelated@elsewhere.example>"
    dovecot.append(
        mail(subject="no key here", headers={"References": f"{other} {sent['Message-ID']} <x@y.example>"}),
        mail(subject=f"Question about [{incident.key}] please", body="By key."),
    )
    assert mailbox_poll(mailbox=imap_mailbox) == {"comment": 2}
    assert Incident.objects.count() == 1


def test_new_mail_opens_an_incident_for_the_contacts_customer_and_is_acknowledged_in_thread(
    org, contact, imap_mailbox, dovecot, smtp_sink, eager_tasks, django_capture_on_commit_callbacks
):
    raw = mail(subject="Payouts missing", body="No payouts since Monday.\n\n--\nAna Lopez\nNorthwind")
    dovecot.append(raw)
    with django_capture_on_commit_callbacks(execute=True):
        assert mailbox_poll(mailbox=imap_mailbox) == {"incident": 1}
    incident = Incident.objects.get()
    assert incident.title == "Payouts missing" and incident.service == org.service
    assert incident.customer == org.customer and incident.requester == contact
    assert "No payouts since Monday." in incident.description
    ack = smtp_sink.wait_for(1)[0]
    row = InboundMessage.objects.get()
    assert ack["In-Reply-To"] == row.message_id and ack["Auto-Submitted"] == "auto-generated"
    assert "support@tandem.example" in ack["From"]


def test_a_sender_at_a_customers_domain_becomes_its_contact(org, contact, imap_mailbox, dovecot):
    dovecot.append(mail(sender="Bea <bea@Northwind.example>"))
    assert mailbox_poll(mailbox=imap_mailbox) == {"incident": 1}
    bea = Contact.objects.get(email="bea@northwind.example")
    assert bea.customer == org.customer and bea.name == "Bea"
    assert Incident.objects.get().requester == bea


def test_an_unknown_sender_fails_visibly_and_a_retry_after_adding_the_contact_opens_it(
    org, imap_mailbox, dovecot, api
):
    dovecot.append(mail(sender="stranger@nowhere.example"))
    assert mailbox_poll(mailbox=imap_mailbox) == {"failed": 1}
    assert not Incident.objects.exists() and dovecot.unseen() == 0
    row = InboundMessage.objects.get()
    assert "no contact of any customer" in row.error
    api.as_user(org.manager)
    listed = api.get("/api/v1/mail-log/").json()["results"][0]
    assert listed["outcome"] == "failed" and listed["from"] == "stranger@nowhere.example" and listed["error"]
    Contact.objects.create(customer=org.customer, name="S", email="stranger@nowhere.example")
    r = api.post(f"/api/v1/mail-log/{row.pk}/retry/")
    assert r.status_code == 200 and r.json()["outcome"] == "incident"
    assert Incident.objects.get().customer == org.customer
    assert api.post(f"/api/v1/mail-log/{row.pk}/retry/").status_code == 409


def test_unknown_senders_go_to_the_mailboxs_default_customer_when_set(org, imap_mailbox, dovecot):
    imap_mailbox.default_customer = org.customer
    imap_mailbox.save()
    dovecot.append(mail(sender="someone@nowhere.example"))
    assert mailbox_poll(mailbox=imap_mailbox) == {"incident": 1}
    assert Incident.objects.get().requester.email == "someone@nowhere.example"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
    ],
)
def test_automatic_mail_is_logged_and_never_answered(
    replied, dovecot, imap_mailbox, smtp_sink, headers, django_capture_on_commit_callbacks
):
    incident, sent = replied
    outbound_before = OutboundMail.objects.count()
    raw = mail(subject=f"Re: {sent['Subject']}", headers={"In-Reply-To": sent["Message-ID"], **headers})
    dovecot.append(raw, mail(subject="Out of office", headers=headers))
    with django_capture_on_commit_callbacks(execute=True):
        assert mailbox_poll(mailbox=imap_mailbox) == {"ignored_auto": 2}
    assert Incident.objects.count() == 1 and OutboundMail.objects.count() == outbound_before
    assert not Comment.objects.filter(via="email").exists()
    incident.refresh_from_db()
    assert incident.status == "on_hold"


def test_bounces_and_mail_from_our_own_address_are_ignored(org, contact, imap_mailbox, dovecot):
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    def report(sender):
        msg = MIMEMultipart("report", report_type="delivery-status")
        msg["From"] = sender
        msg["To"] = "support@tandem.example"
        msg["Subject"] = "Undelivered Mail Returned to Sender"
        msg["Message-ID"] = make_msgid()
        msg.attach(MIMEText("delivery to ana@northwind.example failed"))
        return msg.as_bytes()

    # A delivery report from an ordinary-looking sender, one from the mailer daemon, and our own.
    dovecot.append(
        report("bounces@mx.northwind.example"),
        report("MAILER-DAEMON@mx.northwind.example"),
        mail(sender="Tandem <support@tandem.example>"),
    )
    assert mailbox_poll(mailbox=imap_mailbox) == {"ignored_auto": 3}
    assert sorted(InboundMessage.objects.values_list("error", flat=True)) == [
        "delivery status report (multipart/report)",
        "delivery status report (multipart/report)",
        "mail from Tandem's own address",
    ]
    assert not Incident.objects.exists()


def test_the_same_message_id_twice_is_one_incident_and_a_duplicate(org, contact, imap_mailbox, dovecot):
    raw = mail(message_id="<same@northwind.example>")
    dovecot.append(raw, raw)
    assert mailbox_poll(mailbox=imap_mailbox) == {"incident": 1, "duplicate": 1}
    assert Incident.objects.count() == 1
    assert sorted(InboundMessage.objects.values_list("outcome", flat=True)) == ["duplicate", "incident"]


def test_a_message_seen_again_after_a_crash_before_the_flag_is_not_processed_twice(
    org, contact, imap_mailbox
):
    raw = mail()
    first = inbound_process(mailbox=imap_mailbox, imap_key="7:1", raw=raw)
    again = inbound_process(mailbox=imap_mailbox, imap_key="7:1", raw=raw)
    assert first.pk == again.pk and Incident.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_resolved_reopens_and_closed_opens_a_linked_incident(
    replied, org, dovecot, imap_mailbox, django_capture_on_commit_callbacks
):
    incident, sent = replied
    services.incident_transition(incident=incident, actor=org.desk, status="in_progress")
    services.incident_transition(
        incident=incident, actor=org.desk, status="resolved", resolution_code="fixed", note="Done."
    )
    dovecot.append(_reply_to(sent, body="Still broken."))
    assert mailbox_poll(mailbox=imap_mailbox) == {"comment": 1}
    incident.refresh_from_db()
    assert incident.status == "in_progress"
    services.incident_transition(
        incident=incident, actor=org.desk, status="resolved", resolution_code="fixed", note="Really."
    )
    services.incident_transition(incident=incident, actor=org.desk, status="closed")
    dovecot.append(_reply_to(sent, body="Broken again."))
    assert mailbox_poll(mailbox=imap_mailbox) == {"incident": 1}
    follow_up = Incident.objects.exclude(pk=incident.pk).get()
    assert follow_up.follows == incident and follow_up.requester == incident.requester
    assert "Broken again." in follow_up.description and incident.key in follow_up.description


def test_html_mail_is_sanitised(org, contact, imap_mailbox, dovecot, client):
    html = '<p>Hello <b>team</b></p><script>alert("x")</script><img src=x onerror="alert(1)">'
    raw = mail(html=html, body="")
    # An HTML-only message: drop the plain part.
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    only_html = EmailMessage()
    for name in ("From", "To", "Subject", "Message-ID", "Date"):
        only_html[name] = msg[name]
    only_html.set_content(html, subtype="html")
    dovecot.append(only_html.as_bytes())
    assert mailbox_poll(mailbox=imap_mailbox) == {"incident": 1}
    row = InboundMessage.objects.get()
    assert "<script" not in row.html and "onerror" not in row.html and "<b>team</b>" in row.html
    incident = Incident.objects.get()
    assert "Hello team" in incident.description and "alert" not in incident.description
    client.force_login(org.desk)
    page = client.get(reverse("incidents:detail", kwargs={"key": incident.key})).content.decode()
    assert "<script>alert" not in page


def test_the_beat_task_polls_every_active_mailbox(org, contact, imap_mailbox, dovecot):
    Mailbox.objects.create(
        name="Broken", address="broken@tandem.example", default_service=org.service,
        imap_url="imap://u:p@127.0.0.1:1",
    )  # fmt: skip
    dovecot.append(mail())
    assert mail_poll() == 1
    assert Incident.objects.count() == 1
    assert (
        "Connection" in Mailbox.objects.get(name="Broken").last_error
        or Mailbox.objects.get(name="Broken").last_error
    )
