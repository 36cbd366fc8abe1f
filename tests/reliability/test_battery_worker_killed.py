"""A Celery worker SIGKILLed in the middle of a sweep batch: the batch's transaction dies
with it, a new worker sweeps again, and every breach is recorded exactly once."""

import io
import time

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, F

from accounts.roles import STAFF_ROLES
from incidents.models import IncidentEvent
from sla.management.commands.bench_sla import PREFIX
from sla.management.commands.bench_sla import Command as SLABench
from sla.models import SLAEvent, SLATimer

from .helpers import Worker, database_url, record

N_TIMERS = 20_000


@pytest.fixture
def _groups(transactional_db):
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)


def _sweep_statement_running(dbname):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            [dbname, "%FOR UPDATE SKIP LOCKED%"],
        )
        row = cur.fetchone()
    return row[0] if row else None


@pytest.mark.battery
@pytest.mark.celery_worker
def test_worker_killed_mid_sweep_batch_loses_no_breach_and_doubles_none(_groups, spare_redis):
    bench = SLABench(stdout=io.StringIO())
    bench._seed(N_TIMERS, N_TIMERS, bench._policy())  # every timer already due
    assert SLATimer.objects.filter(state="running").count() == N_TIMERS
    dbname = connection.settings_dict["NAME"]
    db_url = database_url(connection.settings_dict)

    first = Worker(
        broker_url=spare_redis.url,
        db_url=db_url,
        name="victim",
        sweep_seconds=2,
        pool="prefork",
        concurrency=1,
    ).start()
    killed_pid = None
    try:
        deadline = time.monotonic() + 60
        # Wait for the first committed batch, then catch the next batch mid-statement.
        while time.monotonic() < deadline and not SLAEvent.objects.exists():
            time.sleep(0.01)
        while time.monotonic() < deadline and killed_pid is None:
            killed_pid = _sweep_statement_running(dbname)
            if killed_pid is None:
                time.sleep(0.002)
        assert killed_pid, "no sweep batch was seen running"
        first.kill()  # SIGKILL: main process, pool child and beat, mid-statement
    finally:
        first.stop()
    # The dead client's transaction is rolled back by PostgreSQL.
    for _ in range(200):
        with connection.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [killed_pid])
            if cur.fetchone() is None:
                break
        time.sleep(0.05)
    at_kill = SLAEvent.objects.filter(kind="breach").count()

    second = Worker(
        broker_url=spare_redis.url,
        db_url=db_url,
        name="survivor",
        sweep_seconds=2,
        pool="prefork",
        concurrency=1,
    ).start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if not SLATimer.objects.filter(state="running").exists():
                break
            time.sleep(0.5)
    finally:
        second.stop()

    breaches = SLAEvent.objects.filter(kind="breach", timer__incident__key__startswith=PREFIX)
    timeline = IncidentEvent.objects.filter(event="sla_breach", incident__key__startswith=PREFIX)
    doubled_timeline = timeline.values("incident_id", "field").annotate(n=Count("id")).filter(n__gt=1).count()
    # Lost: clocks with no breach event; doubled: breach events beyond one per clock (the
    # two are counted apart, so a duplicate cannot hide a loss in the total).
    breached_timers = breaches.values("timer_id").distinct().count()
    lost = N_TIMERS - breached_timers
    doubled_events = breaches.count() - breached_timers
    record(
        "worker SIGKILLed mid sweep batch",
        faults=["celery worker SIGKILL (whole process group) during a sweep statement"],
        checked=N_TIMERS,
        lost=lost,
        notes=f"{at_kill:,} breaches committed before the kill; the rest swept by a new worker; "
        f"doubled breach events: {doubled_events}; doubled timeline rows: {doubled_timeline}",
    )
    assert 0 < at_kill < N_TIMERS  # killed part-way through the sweep
    assert lost == 0
    assert doubled_events == 0
    assert SLATimer.objects.filter(state="breached").count() == N_TIMERS
    assert timeline.count() == N_TIMERS
    assert doubled_timeline == 0
    assert not SLATimer.objects.exclude(breached_at=F("due_at")).exists()
