"""The sweep fires every warning and breach exactly once, and catches up after downtime."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from sla import services
from sla.models import SLAEvent, SLATimer, TimerState
from tests.factories import ServiceFactory, UserFactory
from tracker.services import SLA_SWEEP

from .factories import PolicyFactory


@pytest.fixture
def eager_celery(monkeypatch):
    """Run the action task right after each batch commits, in the sweeping thread, as an
    eager Celery would (a real worker may be running against this database too)."""
    from django.db import transaction

    def run_on_commit(task, *args, **kwargs):
        transaction.on_commit(lambda: task.run(*args, **kwargs))

    monkeypatch.setattr(services.events, "enqueue_on_commit", run_on_commit)


def future_now():
    """A "now" a day ahead: rows due then are not yet due in real time, so a real worker
    sweeping the same test database (tests/sla/test_real_worker.py) leaves them alone."""
    return timezone.now() + timedelta(days=1)


def seed_due_timers(n, *, now, spread=timedelta(0), warn=False):
    """n incidents, each with a running resolution timer already due."""
    service = ServiceFactory()
    policy = PolicyFactory(priority="P2")
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                key=f"INC-S{i}",
                title=f"Due {i}",
                service=service,
                team=service.support_team,
                priority="P2",
                created_at=now - timedelta(days=1),
            )
            for i in range(n)
        ]
    )
    step = spread / n if n else spread
    SLATimer.objects.bulk_create(
        [
            SLATimer(
                incident=inc,
                metric="resolution",
                policy=policy,
                target_minutes=240,
                started_at=now - timedelta(days=1),
                due_at=now - timedelta(seconds=1) - step * i,
                warn_at=(now - timedelta(hours=2) - step * i) if warn else None,
            )
            for i, inc in enumerate(incidents)
        ]
    )
    return incidents


@pytest.mark.django_db(transaction=True)
def test_four_concurrent_sweeps_fire_each_breach_exactly_once(eager_celery):
    assert connection.vendor == "postgresql"
    # Transactional tests flush the role groups a data migration made: make sure it exists.
    Group.objects.get_or_create(name="manager")
    UserFactory(roles=["manager"], email="boss@example.com")
    now = future_now()
    seed_due_timers(1000, now=now)
    mail.outbox.clear()
    errors = []
    barrier = threading.Barrier(4)

    def sweeper():
        try:
            barrier.wait()
            services.sla_sweep_tick(now=now, batch_size=50)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert SLAEvent.objects.filter(kind="breach").count() == 1000
    assert SLATimer.objects.filter(state=TimerState.BREACHED).count() == 1000
    assert IncidentEvent.objects.filter(event="sla_breach").count() == 1000
    assert len(mail.outbox) == 1000
    assert SLAEvent.objects.filter(handled_at__isnull=True).count() == 0

    # Run again, and deliver every action task a second time: nothing new.
    assert services.sla_sweep_tick(now=now)["breaches"] == 0
    for event_id in SLAEvent.objects.values_list("pk", flat=True)[:100]:
        assert services.sla_event_handle(event_id=event_id) is False
    assert SLAEvent.objects.count() == 1000
    assert len(mail.outbox) == 1000


@pytest.mark.django_db
def test_catch_up_after_an_hour_of_downtime_records_true_due_instants(django_capture_on_commit_callbacks):
    now = future_now()
    seed_due_timers(120, now=now, spread=timedelta(hours=1), warn=True)
    expected = dict(SLATimer.objects.values_list("pk", "due_at"))
    with django_capture_on_commit_callbacks():
        counts = services.sla_sweep_tick(now=now, batch_size=25, dispatch=False)
    assert counts["breaches"] == 120 and counts["warnings"] == 120
    for pk, breached_at, due_at in SLATimer.objects.values_list("pk", "breached_at", "due_at"):
        assert breached_at == due_at == expected[pk]
    for event in SLAEvent.objects.filter(kind="breach").select_related("timer"):
        assert event.at == event.timer.due_at
        assert event.detected_at == now


@pytest.mark.django_db(transaction=True)
def test_a_sweeper_dying_mid_batch_loses_nothing(monkeypatch):
    now = future_now()
    seed_due_timers(30, now=now)
    calls = {"n": 0}

    def dying_enqueue(task, *args, **kwargs):
        # Called inside the batch's transaction, after its statement ran: dying here
        # is a worker killed before commit.
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")

    monkeypatch.setattr(services.events, "enqueue_on_commit", dying_enqueue)
    with pytest.raises(SystemExit):
        services.sla_sweep_tick(now=now, batch_size=10)
    assert SLATimer.objects.filter(state=TimerState.BREACHED).count() == 10
    assert SLAEvent.objects.count() == 10
    assert IncidentEvent.objects.filter(event="sla_breach").count() == 10
    monkeypatch.setattr(services.events, "enqueue_on_commit", lambda *a, **k: None)
    assert services.sla_sweep_tick(now=now, batch_size=10)["breaches"] == 20
    assert SLAEvent.objects.count() == 30
    assert IncidentEvent.objects.filter(event="sla_breach").count() == 30


@pytest.mark.django_db
def test_not_yet_due_and_paused_timers_are_left_alone():
    now = future_now()
    seed_due_timers(3, now=now + timedelta(minutes=5))
    paused = SLATimer.objects.first()
    SLATimer.objects.filter(pk=paused.pk).update(state=TimerState.PAUSED, due_at=now - timedelta(hours=1))
    assert services.sla_sweep_tick(now=now, dispatch=False)["breaches"] == 0


@pytest.mark.django_db
def test_breach_actions_escalate_one_tier_and_declare_major(django_capture_on_commit_callbacks):
    from org.models import Team

    now = future_now()
    seed_due_timers(1, now=now)
    timer = SLATimer.objects.select_related("incident", "policy").get()
    Team.objects.create(name="Second line", tier=2)
    timer.policy.escalate_on_breach = True
    timer.policy.declare_major_on_breach = True
    timer.policy.save()
    with django_capture_on_commit_callbacks(execute=False):
        services.sla_sweep_tick(now=now, dispatch=False)
    event = SLAEvent.objects.get()
    assert services.sla_event_handle(event_id=event.pk) is True
    incident = Incident.objects.get()
    assert incident.tier == 2
    assert incident.is_major
    assert services.sla_event_handle(event_id=event.pk) is False
    assert IncidentEvent.objects.filter(incident=incident, event="escalated").count() == 1


@pytest.mark.django_db
def test_sweep_query_uses_the_partial_index():
    now = future_now()
    sql, params = services.sweep_candidates("breach", now, 1000).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "sla_timer_due_running" in plan


def _no_heartbeat_row(monkeypatch):
    """These task tests run without a database: the sweep's Heartbeat upsert (written
    for real in tests/test_observability.py) is only noted."""
    beats = []
    monkeypatch.setattr("sla.tasks.heartbeat_record", beats.append)
    return beats


def test_sweep_task_shares_out_a_backlog(monkeypatch):
    from sla import tasks

    queued = []
    beats = _no_heartbeat_row(monkeypatch)
    monkeypatch.setattr(services, "sla_sweep_tick", lambda **kw: {"warnings": 0, "breaches": 5, "more": True})
    monkeypatch.setattr("sla.tasks.enqueue", lambda task, *a, **k: queued.append(task.name))
    monkeypatch.setattr(services, "policies_awaiting_retarget", lambda **kw: [])
    tasks.sla_sweep.run()
    assert queued == ["sla.tasks.sla_sweep"]
    queued.clear()
    monkeypatch.setattr(
        services, "sla_sweep_tick", lambda **kw: {"warnings": 0, "breaches": 0, "more": False}
    )
    tasks.sla_sweep.run()
    assert queued == []
    assert beats == [SLA_SWEEP, SLA_SWEEP]  # each finished run notes its heartbeat


def test_sweep_task_queues_policy_edits_whose_task_never_ran(monkeypatch):
    from sla import tasks

    queued = []
    _no_heartbeat_row(monkeypatch)
    monkeypatch.setattr(
        services, "sla_sweep_tick", lambda **kw: {"warnings": 0, "breaches": 0, "more": False}
    )
    monkeypatch.setattr(services, "policies_awaiting_retarget", lambda **kw: [7])
    monkeypatch.setattr("sla.tasks.enqueue", lambda task, *a, **k: queued.append((task.name, a)))
    tasks.sla_sweep.run()
    assert queued == [("sla.tasks.sla_policy_retarget", (7,))]
