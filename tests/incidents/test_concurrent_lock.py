"""Two writers on one incident at once: the second waits for the first and then acts on
the fresh row, even when the first changed the team and assignee (joined columns)."""

import threading
import time

import pytest
from django.db import connection, transaction

from incidents.models import Incident
from incidents.services import incident_comment, incident_escalate, incident_take
from tests.factories import ServiceFactory, TeamFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_escalate_and_comment_both_succeed(make_user):
    desk = make_user("service_desk")
    engineer = make_user("support_engineer")
    tier1 = TeamFactory(tier=1, members=[desk])
    tier2 = TeamFactory(tier=2, members=[engineer])
    service = ServiceFactory(support_team=tier1)
    from incidents.services import incident_create

    incident = incident_create(actor=desk, title="Login loop", service=service)
    incident = incident_take(incident=incident, actor=desk)
    locked = threading.Event()
    errors = []

    def escalate():
        # Hold the lock (team already changed) while the other writer queues behind it.
        try:
            with transaction.atomic():
                incident_escalate(incident=incident, actor=desk, team=tier2, note="tier 2 please")
                locked.set()
                time.sleep(1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            locked.set()
            connection.close()

    def comment():
        try:
            locked.wait(10)
            incident_comment(incident=incident, actor=desk, body="Customer called again", public=True)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=escalate), threading.Thread(target=comment)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    fresh = Incident.objects.get(pk=incident.pk)
    assert fresh.team == tier2 and fresh.comments.count() == 1
