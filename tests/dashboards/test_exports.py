"""CSV exports are audit data sets: labels rather than codes, people by name, ISO times with
the viewer's offset and whole seconds, both SLA outcomes, the resolution code and the time
logged per incident; "First response" is the response clock's stop, as the SLA and MTTA."""

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services as incident_services
from sla.models import BusinessCalendar, SLAPolicy, SLATimer
from tests.factories import ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
BERLIN = ZoneInfo("Europe/Berlin")


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def case(django_capture_on_commit_callbacks):
    """INC: taken (the response clock stops without a public reply), 45 minutes logged,
    resolved with a workaround; both clocks met."""
    calendar = BusinessCalendar.objects.create(name="24x7", timezone="UTC", always_open=True)
    SLAPolicy.objects.create(
        name="P1", priority="P1", response_minutes=60, resolution_minutes=600, calendar=calendar
    )
    ana = UserFactory(username="ana.lopez", first_name="Ana", last_name="Lopez", roles=["support_engineer"])
    team = TeamFactory(name="App Support", tier=2, members=[ana])
    service = ServiceFactory(name="Payments", support_team=team)
    start = timezone.now().replace(microsecond=123456) - timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_services.incident_create(
            actor=ana, title="Checkout down", service=service, impact="high", urgency="high", at=start
        )
        incident_services.incident_take(incident=incident, actor=ana, at=start + timedelta(minutes=7))
        incident_services.incident_log_time(incident=incident, actor=ana, minutes=30)
        incident_services.incident_log_time(incident=incident, actor=ana, minutes=15)
        incident_services.incident_transition(
            incident=incident,
            actor=ana,
            status="resolved",
            resolution_code="workaround",
            note="Restarted the gateway",
            at=start + timedelta(hours=1),
        )
    incident.refresh_from_db()
    return incident


def test_incident_export_rows_say_what_they_mean(client, case, manager_user):
    manager_user.time_zone = "Europe/Berlin"
    manager_user.save()
    client.force_login(manager_user)
    response_clock = SLATimer.objects.get(incident=case, metric="response")
    assert case.responded_at is None and response_clock.stopped_at is not None  # no public reply
    rows = _rows(client.get(reverse("dashboards:export", args=["incidents"]), {"show": "created"}))
    queue = _rows(client.get(reverse("dashboards:export_queue"), {"status": "resolved"}))
    for row in (rows[0], queue[0]):
        assert row["Key"] == case.key
        assert row["Type"] == "Incident"
        assert row["Priority"] == "P1 – critical"
        assert row["Status"] == "Resolved"
        assert row["Tier"] == "Tier 2"
        assert row["Assignee"] == "Ana Lopez"
        assert row["Response SLA"] == "Met" and row["Resolution SLA"] == "Met"
        assert row["Resolution code"] == "Workaround provided"
        assert row["Time logged (minutes)"] == "45"
        for column in ("Created", "First response", "Resolved"):
            assert ISO_WITH_OFFSET.match(row[column]), (column, row[column])
        assert row["Created"].endswith("+01:00")  # the viewer's zone (December in Berlin)
        # the response clock's stop, to the second, in the viewer's zone
        assert datetime.fromisoformat(row["First response"]) == response_clock.stopped_at.replace(
            microsecond=0
        )
        assert row["First response"] == (
            response_clock.stopped_at.astimezone(BERLIN).replace(microsecond=0).isoformat()
        )


def test_clock_exports_use_labels_and_names(client, case, manager_user):
    SLATimer.objects.filter(incident=case, metric="resolution").update(
        state="breached", breached_at=timezone.now() - timedelta(minutes=5)
    )
    client.force_login(manager_user)
    rows = _rows(client.get(reverse("dashboards:export", args=["breaches"])))
    assert len(rows) == 1
    row = rows[0]
    assert (row["Priority"], row["Metric"], row["SLA outcome"], row["Assignee"]) == (
        "P1 – critical",
        "Resolution",
        "Breached",
        "Ana Lopez",
    )
    assert ISO_WITH_OFFSET.match(row["Breached"])
    by_priority = _rows(client.get(reverse("dashboards:export", args=["compliance_priority"])))
    assert [r["Priority"] for r in by_priority] == ["P1 – critical"]


def test_an_incident_without_clocks_says_so(client, manager_user):
    ana = UserFactory(username="ana", first_name="", last_name="")
    service = ServiceFactory(name="Intranet")
    incident_services.incident_create(
        actor=ana, title="No policy", service=service, impact="low", urgency="low"
    )
    client.force_login(manager_user)
    row = _rows(client.get(reverse("dashboards:export", args=["incidents"]), {"show": "created"}))[0]
    assert row["Response SLA"] == "No SLA" and row["First response"] == ""
    assert row["Time logged (minutes)"] == "0" and row["Status"] == "New"


def test_export_queries_do_not_grow_with_rows(client, case, manager_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(manager_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            for name, args, params in (
                ("dashboards:export", ["incidents"], {"show": "created"}),
                ("dashboards:export", ["breaches"], {}),
                ("dashboards:export_queue", [], {"status": "resolved"}),
            ):
                _rows(client.get(reverse(name, args=args), params))
        return len(queries)

    few = count()
    for n in range(5):
        incident_services.incident_create(
            actor=case.assignee, title=f"More {n}", service=case.service, impact="high", urgency="high"
        )
    assert count() == few
