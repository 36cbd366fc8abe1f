"""The benchmark's set-based seed writes what the services would: the search vector it
computes without the comment subquery equals incidents.search's for every seeded row (so
the two expressions cannot drift), and the queue's sort key is the earliest due of each
incident's counting clocks."""

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from benchmarks import seed
from incidents.models import Comment, Incident
from incidents.search import VECTOR_SQL
from sla.management.commands.bench_sla import PREFIX
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import SLATimer
from tests.factories import CustomerFactory, ServiceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql", reason="PostgreSQL"
    ),
]


def _seed(n, n_due):
    ServiceFactory.create_batch(3)
    CustomerFactory.create_batch(2)
    now = timezone.now()
    seed.insert_incidents(n, n_due, now)
    seed.insert_timers(n_due, SLABench()._policy(), now)
    seed.insert_activity()
    return now


def test_seed_vector_equals_the_services_vector_with_and_without_comments():
    _seed(40, n_due=6)
    bench = Incident.objects.filter(key__startswith=PREFIX)
    assert bench.count() == 40
    commented = set(Comment.objects.filter(incident__in=bench).values_list("incident_id", flat=True))
    assert 0 < len(commented) < 40  # both kinds of rows are compared
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT i.key, i.search_vector::text, ({VECTOR_SQL.format(t='i')})::text "  # noqa: S608
            "FROM incidents_incident i WHERE i.key LIKE %s ORDER BY i.id",
            [PREFIX + "%"],
        )
        rows = cur.fetchall()
    assert all(stored for _key, stored, _expected in rows)
    assert [(key, stored) for key, stored, _ in rows] == [(key, expected) for key, _, expected in rows]
    # the comment's words are in the vector, weighted C
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM incidents_incident WHERE id = ANY(%s) AND search_vector::text LIKE %s",
            [list(commented), "%C%"],
        )
        assert cur.fetchone()[0] == len(commented)


def test_open_incidents_are_sorted_by_their_earliest_running_clock_and_n_due_are_due():
    now = _seed(30, n_due=6)
    timers = SLATimer.objects.filter(incident__key__startswith=PREFIX)
    assert timers.count() == 60
    assert timers.filter(state="running", due_at__lte=now).count() == 6
    for incident in Incident.objects.filter(key__startswith=PREFIX):
        running = [t.due_at for t in timers if t.incident_id == incident.pk and t.is_active]
        if incident.status in ("closed", "resolved"):
            assert not running and incident.sla_due_at is None and incident.resolved_at
        else:
            assert incident.sla_due_at == min(running)
