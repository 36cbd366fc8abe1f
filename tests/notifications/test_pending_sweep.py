"""E-mails whose after-commit task never ran are sent by the beat sweep, once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import EmailState, Notification
from notifications.services import notification_create
from notifications.tasks import notifications_email_pending

pytestmark = pytest.mark.django_db


def test_sweep_sends_stale_pending_emails_once(make_user):
    user = make_user("service_desk")
    (notice,) = notification_create(kind="assigned", recipients=[user], title="INC-1 is yours")
    assert notice.email_state == EmailState.PENDING
    assert notifications_email_pending() == 0  # too fresh: its own task may still come
    Notification.objects.filter(pk=notice.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert notifications_email_pending() == 1
    assert notifications_email_pending() == 0
    assert len(mail.outbox) == 1


def test_queue_page_links_to_the_csv_of_the_same_filters(client, make_user):
    user = make_user("service_desk")
    client.force_login(user)
    html = client.get("/incidents/?tab=all&priority=P1").content.decode()
    assert "/dashboards/export/queue.csv?tab=all&amp;priority=P1" in html
    csv = client.get("/dashboards/export/queue.csv?tab=all&priority=P1")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
