"""The customer channel's tests reuse the small support organisation of the incident tests."""

import pytest

from tests.incidents.conftest import log_incident, org, role_groups, sla_policies  # noqa: F401


@pytest.fixture
def contact(org):  # noqa: F811 - the imported fixture
    from org.services import contact_create, customer_set_email_domains

    customer_set_email_domains(customer=org.customer, domains=["northwind.example"])
    return contact_create(customer=org.customer, name="Ana Lopez", email="Ana@Northwind.example")


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server in this process; Django's SMTP backend points at it."""
    from .mailservers import SmtpSink

    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


@pytest.fixture
def eager_tasks():
    """Published tasks run at once in this process (the real-worker test covers the broker)."""
    from tracker.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def mailbox(org):  # noqa: F811
    from mail.models import Mailbox

    return Mailbox.objects.create(
        name="Payments support", address="support@tandem.example", default_service=org.service
    )


@pytest.fixture
def dovecot():
    """A real IMAP server (Debian's dovecot-imapd); scripts/test installs it when missing.
    Its directory is outside pytest's private tmp: dovecot's own users must reach it."""
    import os
    import shutil
    import tempfile

    from .mailservers import Dovecot

    if not os.path.exists("/usr/sbin/dovecot"):
        pytest.fail("dovecot-imapd is not installed; scripts/test installs it")
    directory = tempfile.mkdtemp(prefix="tandem-dovecot-")
    server = Dovecot(directory).start()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap_mailbox(org, dovecot):  # noqa: F811
    from mail.models import Mailbox

    return Mailbox.objects.create(
        name="Payments support",
        address="support@tandem.example",
        default_service=org.service,
        imap_url=dovecot.url,
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments go to a throwaway directory through the storage API."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT
