"""The SLA sweep on SQLite, the embedded default (`./scripts/run`).

sla.services.sweep has a set-based PostgreSQL sweep and another path for every other database;
the suite runs on PostgreSQL, so the other path never ran. Here it does, for real: the
test on PostgreSQL starts pytest again in a subprocess (tests/sqlite_run.py, one run shared
with the search module) with the local (embedded) settings and DATABASE_URL pointing at an
SQLite file, and that run executes the `*_on_sqlite` tests below (they skip on any other
database; the PostgreSQL test skips on SQLite)."""

from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from sla import services
from sla.models import SLAEvent, SLATimer, TimerState
from tests.factories import ServiceFactory, UserFactory
from tests.sqlite_run import ROOT, outcomes, sqlite_run

from .factories import PolicyFactory

ON_SQLITE = "sqlite"


def _vendor():
    return connection.vendor


def _sqlite_cases() -> int:
    cases = 0
    for name, test in globals().items():
        if name.startswith("test_") and name.endswith("_on_sqlite"):
            params = [m.args[1] for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
            cases += len(params[0]) if params else 1
    return cases


# ------------------------------------------------------------------ the PostgreSQL side
@pytest.mark.xdist_group("sqlite")
@pytest.mark.django_db
def test_the_sqlite_sweep_tests_pass_on_a_real_sqlite_database():
    if _vendor() == ON_SQLITE:
        pytest.skip("this is the SQLite run itself")
    code, out = sqlite_run()
    assert code == 0, out[-6000:]
    # every SQLite test (each parametrized case) ran and passed: none skipped or missed
    ran = outcomes(str(Path(__file__).relative_to(ROOT)))
    assert len(ran) == _sqlite_cases() and set(ran.values()) == {"PASSED"}, out[-3000:]


# ------------------------------------------------------------------ the SQLite side
@pytest.fixture
def sqlite_path(monkeypatch):
    """Only on SQLite; the PostgreSQL statement must not run (it would fail there anyway)."""
    if _vendor() != ON_SQLITE:
        pytest.skip("runs in the SQLite subprocess started by the test above")

    def refuse(*args, **kwargs):
        raise AssertionError("the PostgreSQL sweep ran on SQLite")

    monkeypatch.setattr(services.sweep, "_sweep_batch_postgresql", refuse)
    # The action task runs right after each batch commits, in this thread, as a worker
    # would run it (no broker needed).
    monkeypatch.setattr(
        services.events,
        "enqueue_on_commit",
        lambda task, *a, **kw: transaction.on_commit(lambda: task.run(*a, **kw)),
    )
    for role in ("manager",):
        Group.objects.get_or_create(name=role)
    UserFactory(roles=["manager"], email="boss@example.com")
    mail.outbox.clear()


def _seed(now, dues, warns=None):
    """One incident per due instant, each with a running resolution timer."""
    service = ServiceFactory()
    policy = PolicyFactory(priority="P2")
    incidents = [
        Incident.objects.create(
            key=f"INC-Q{i}",
            title=f"Due {i}",
            service=service,
            team=service.support_team,
            priority="P2",
            created_at=now - timedelta(days=1),
        )
        for i in range(len(dues))
    ]
    warns = warns or [None] * len(dues)
    return [
        SLATimer.objects.create(
            incident=inc,
            metric="resolution",
            policy=policy,
            target_minutes=240,
            started_at=now - timedelta(days=1),
            due_at=due,
            warn_at=warn,
        )
        for inc, due, warn in zip(incidents, dues, warns, strict=True)
    ]


@pytest.mark.django_db(transaction=True)
def test_catch_up_records_each_warning_and_breach_once_at_its_true_instant_on_sqlite(sqlite_path):
    now = timezone.now().replace(microsecond=250_000)
    # An hour of downtime: 40 clocks fell due at odd instants (microseconds included);
    # one falls due exactly now, one a minute from now (warned, not breached yet).
    dues = [now - timedelta(seconds=1 + 90 * i, microseconds=137 * i) for i in range(40)]
    dues += [now, now + timedelta(minutes=1)]
    warns = [due - timedelta(hours=1) for due in dues]
    timers = _seed(now, dues, warns)
    not_yet = timers[-1]
    due_timers = timers[:-1]

    counts = services.sla_sweep_tick(now=now, batch_size=7)

    assert counts["warnings"] == 42 and counts["breaches"] == 41, counts
    breaches = {e.timer_id: e for e in SLAEvent.objects.filter(kind="breach")}
    warnings = {e.timer_id: e for e in SLAEvent.objects.filter(kind="warning")}
    assert SLAEvent.objects.filter(kind="breach").count() == len(breaches) == 41
    assert SLAEvent.objects.filter(kind="warning").count() == len(warnings) == 42
    for timer in due_timers:
        timer.refresh_from_db()
        assert timer.state == TimerState.BREACHED
        assert timer.breached_at == timer.due_at  # the due instant, not detection time
        assert breaches[timer.pk].at == timer.due_at
        assert breaches[timer.pk].detected_at == now
        assert timer.warned_at == timer.warn_at == warnings[timer.pk].at
    not_yet.refresh_from_db()
    assert not_yet.state == TimerState.RUNNING and not_yet.breached_at is None
    assert not_yet.warned_at == not_yet.warn_at
    timeline = IncidentEvent.objects.filter(event="sla_breach")
    assert timeline.count() == 41
    assert {(e.incident_id, e.at) for e in timeline} == {(t.incident_id, t.due_at) for t in due_timers}
    assert IncidentEvent.objects.filter(event="sla_warning").count() == 42
    assert SLAEvent.objects.filter(handled_at__isnull=True).count() == 0  # actions ran
    mails = len(mail.outbox)
    assert mails >= 41  # the manager hears of each breach

    # The next sweeps, and every action delivered a second time: nothing new.
    again = services.sla_sweep_tick(now=now)
    assert (again["warnings"], again["breaches"]) == (0, 0)
    for event_id in SLAEvent.objects.values_list("pk", flat=True):
        assert services.sla_event_handle(event_id=event_id) is False
    later = services.sla_sweep_tick(now=now + timedelta(minutes=2))
    assert (later["warnings"], later["breaches"]) == (0, 1)  # only the last clock
    not_yet.refresh_from_db()
    assert not_yet.breached_at == not_yet.due_at
    assert SLAEvent.objects.filter(timer=not_yet, kind="breach").get().at == not_yet.due_at
    assert SLAEvent.objects.count() == 42 + 42
    assert IncidentEvent.objects.filter(event="sla_breach").count() == 42
    assert len(mail.outbox) > mails


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_now_in_any_zone_sweeps_the_same_clocks_on_sqlite(sqlite_path, zone):
    """`now` is an instant: written in another zone it sweeps exactly the clocks due by
    then, and records them at their due instants (SQLite compares the stored text)."""
    instant = timezone.now().replace(microsecond=0)
    due, not_due = _seed(instant, [instant - timedelta(minutes=1), instant + timedelta(minutes=1)])
    now = instant.astimezone(ZoneInfo(zone))
    assert now.utcoffset() != timedelta(0) and now == instant.astimezone(UTC)

    counts = services.sla_sweep_tick(now=now, batch_size=5)

    assert counts["breaches"] == 1, counts
    due.refresh_from_db()
    not_due.refresh_from_db()
    assert due.state == TimerState.BREACHED and due.breached_at == due.due_at
    assert not_due.state == TimerState.RUNNING
    assert list(SLAEvent.objects.values_list("timer_id", "at")) == [(due.pk, due.due_at)]


@pytest.mark.django_db(transaction=True)
def test_a_timer_changed_after_it_was_picked_is_left_alone_on_sqlite(sqlite_path, monkeypatch):
    """The guard in the UPDATE: a clock paused (or stopped) between the candidate query and
    the update is not breached, and the sweep does not count it."""
    now = timezone.now()
    first, second = _seed(now, [now - timedelta(minutes=5), now - timedelta(minutes=4)])
    real = services.sweep_candidates

    def candidates_then_pause(kind, at, limit):
        ids = list(real(kind, at, limit))
        if kind == "breach" and first.pk in ids:
            SLATimer.objects.filter(pk=first.pk).update(state=TimerState.PAUSED, paused_at=at)
        return ids

    monkeypatch.setattr(services.sweep, "sweep_candidates", candidates_then_pause)
    counts = services.sla_sweep_tick(now=now)

    assert counts["breaches"] == 1, counts
    assert list(SLAEvent.objects.filter(kind="breach").values_list("timer_id", flat=True)) == [second.pk]
    first.refresh_from_db()
    assert first.state == TimerState.PAUSED and first.breached_at is None
