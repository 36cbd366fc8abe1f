"""Dashboard pages, drill-downs and exports: permissions, bad input, query budgets, CSV."""

import csv
import io
import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalation.models import Escalation, Outcome, Placement
from incidents.models import Incident
from sla.models import PauseCause, PausePeriod, SLATimer
from tests.boards.factories import BoardFactory, CardFactory
from tests.factories import CustomerFactory, DevTeamFactory, ServiceFactory, TeamFactory
from tests.sla.factories import PolicyFactory

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


@pytest.fixture
def world():
    team = TeamFactory(name="Desk")
    dev = DevTeamFactory(name="Payments Dev")
    board = BoardFactory(teams=[dev])
    service = ServiceFactory(name="Payments", support_team=team, team=dev)
    return {
        "team": team,
        "dev": dev,
        "board": board,
        "service": service,
        "customer": CustomerFactory(),
        "policy": PolicyFactory(),
    }


def seed(world, n):
    """n incidents spread over the last 20 days with timers, pauses and escalations."""
    now = timezone.now()
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                key=f"INC-B{next(_keys)}",
                title=f"Incident {i}",
                service=world["service"],
                team=world["team"],
                customer=world["customer"] if i % 2 else None,
                priority=f"P{i % 5 + 1}",
                status="resolved" if i % 3 == 0 else "in_progress",
                created_at=now - timedelta(days=i % 20, hours=i % 7),
                resolved_at=now - timedelta(days=i % 20) + timedelta(hours=1) if i % 3 == 0 else None,
            )
            for i in range(n)
        ]
    )
    timers = []
    for i, inc in enumerate(incidents):
        for metric in ("response", "resolution"):
            breached = i % 4 == 0
            timers.append(
                SLATimer(
                    incident=inc,
                    priority=inc.priority,
                    team_id=inc.team_id,
                    service_id=inc.service_id,
                    customer_id=inc.customer_id,
                    metric=metric,
                    policy=world["policy"],
                    state="breached" if breached else ("running" if i % 3 else "met"),
                    started_at=inc.created_at,
                    due_at=inc.created_at + timedelta(hours=4),
                    warn_at=inc.created_at + timedelta(hours=3),
                    breached_at=inc.created_at + timedelta(hours=4) if breached else None,
                    is_active=i % 3 != 0,
                )
            )
    timers = SLATimer.objects.bulk_create(timers)
    PausePeriod.objects.bulk_create(
        [
            PausePeriod(
                timer=t,
                cause=PauseCause.CUSTOMER,
                started_at=t.started_at,
                ended_at=t.started_at + timedelta(hours=1),
            )
            for t in timers[1::10]
        ]
    )
    cards = [CardFactory(board=world["board"]) for _ in range(2)]
    Escalation.objects.bulk_create(
        [
            Escalation(
                incident=inc,
                card=cards[k % 2],
                at=inc.created_at + timedelta(hours=2),
                from_team=world["team"],
                to_team=world["dev"],
                placement=Placement.BACKLOG,
                outcome=Outcome.DONE,
                returned_at=inc.created_at + timedelta(hours=5),
            )
            for k, inc in enumerate(incidents[::7])
        ]
    )
    return incidents


def test_only_managers_see_dashboards(client, engineer_user, manager_user, world):
    client.force_login(engineer_user)
    for name in ("dashboards:sla", "dashboards:delivery", "dashboards:drilldown", "dashboards:sla_at_risk"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("dashboards:export", args=["breaches"])).status_code == 403
    client.force_login(manager_user)
    page = client.get(reverse("dashboards:sla"))
    assert page.status_code == 200
    assert b"Delivery" in page.content  # nav entry


def test_bad_filters_answer_400_with_field_messages(client, manager_user, world):
    client.force_login(manager_user)
    response = client.get(
        reverse("dashboards:sla"), {"start": "2026-05-01", "end": "2026-04-01", "team": "x"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The start must be on or before the end." in body
    assert 'value="2026-05-01"' in body  # what was typed is kept
    assert client.get(reverse("dashboards:drilldown"), {"start": "yesterday"}).status_code == 400
    assert client.get(reverse("dashboards:export", args=["breaches"]), {"team": "999999"}).status_code == 400
    assert client.get(reverse("dashboards:export", args=["nonsense"])).status_code == 404
    assert client.get(reverse("dashboards:delivery"), {"days": "2"}).status_code == 400


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return len(ctx)


PAGES = [
    ("dashboards:sla", None, {}),
    ("dashboards:sla", None, {"priority": "P1"}),
    ("dashboards:sla_at_risk", None, {}),
    ("dashboards:drilldown", None, {"show": "breached", "metric": "response"}),
    ("dashboards:drilldown", None, {"show": "age_d3_7"}),
    ("dashboards:delivery", None, {}),
    ("dashboards:export", ["compliance_team"], {}),
    ("dashboards:export", ["breaches"], {}),
    ("dashboards:export", ["incidents"], {"show": "created"}),
    ("dashboards:export", ["lead_time"], {}),
    ("dashboards:export_queue", None, {"status": "open"}),
]


def test_query_counts_do_not_grow_with_incidents(client, manager_user, world):
    """10 incidents, then 300: every page runs the same number of queries."""
    client.force_login(manager_user)
    seed(world, 10)
    small = {}
    for name, args, params in PAGES:
        url = reverse(name, args=args)
        params = {**params, "team": world["team"].pk} if name == "dashboards:sla" and params else params
        client.get(url, params)  # warm caches (content types, sessions)
        small[(name, str(args), str(params))] = _count(client, url, params)
    seed(world, 290)
    for name, args, params in PAGES:
        url = reverse(name, args=args)
        params = {**params, "team": world["team"].pk} if name == "dashboards:sla" and params else params
        assert _count(client, url, params) == small[(name, str(args), str(params))], (name, args, params)


def test_numbers_link_to_the_incidents_behind_them(client, manager_user, world):
    client.force_login(manager_user)
    seed(world, 40)
    page = client.get(reverse("dashboards:sla")).content.decode()
    assert "show=breaches" in page and "sla_state=at_risk" in page
    breached = client.get(reverse("dashboards:drilldown"), {"show": "breached", "metric": "response"})
    expected = SLATimer.objects.filter(metric="response", breached_at__isnull=False).count()
    assert f"{expected} incidents" in breached.content.decode()
    csv_text = b"".join(
        client.get(
            reverse("dashboards:export", args=["incidents"]), {"show": "breached", "metric": "response"}
        ).streaming_content
    ).decode()
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0][:3] == ["Key", "Title", "Type"] and len(rows) == expected + 1


def test_delivery_dashboard_shows_the_teams_board(client, manager_user, world):
    client.force_login(manager_user)
    response = client.get(reverse("dashboards:delivery"), {"team": world["dev"].pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Payments Dev" in body and "Cumulative flow" in body and "delivery-charts" in body


def test_queue_export_applies_the_queue_filters(client, engineer_user, world):
    seed(world, 30)
    client.force_login(engineer_user)
    response = client.get(reverse("dashboards:export_queue"), {"priority": "P2", "status": "open"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = Incident.objects.filter(priority="P2", status__in=["new", "in_progress", "on_hold"]).count()
    assert len(rows) == expected + 1 and expected > 0
    assert {r[3] for r in rows[1:]} == {"P2 – high"}  # the label, not the code
    bad = client.get(reverse("dashboards:export_queue"), {"priority": "P9"})
    assert bad.status_code == 400 and "priority" in bad.json()


def test_csv_cells_that_look_like_formulas_are_defused(client, manager_user, world):
    seed(world, 1)
    Incident.objects.update(title='=HYPERLINK("http://evil")')
    client.force_login(manager_user)
    text = b"".join(
        client.get(reverse("dashboards:export", args=["incidents"]), {"show": "created"}).streaming_content
    ).decode()
    assert "'=HYPERLINK" in text
