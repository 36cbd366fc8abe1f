"""Recomputing the clocks a policy runs after it or its calendar was edited: requested in
the edit's transaction, run by a task under a lease, picked up again by the sweep when the
task was lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident
from tracker.tasks import enqueue_on_commit

from ..models import SLAPolicy, SLATimer
from .timers import locked_timers, policy_for_incident, sync_timers, target_minutes

# Edits that change what a policy's running clocks are due by, or which incidents it matches.
RETARGET_FIELDS = (
    "priority",
    "service_id",
    "customer_id",
    "incident_type",
    "response_minutes",
    "resolution_minutes",
    "calendar_id",
    "warn_percent",
    "pause_on",
    "active",
)


def lock_policies(policies: QuerySet[SLAPolicy]) -> list[int]:
    """Lock policy rows in key order (the one order every writer uses); returns their keys."""
    return list(policies.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))


def request_retarget(policies: QuerySet[SLAPolicy]) -> None:
    """Ask for the clocks these policies run to be recomputed, after this commit."""
    from ..tasks import sla_policy_retarget  # cycle: sla.tasks imports sla.services

    pks = lock_policies(policies)
    SLAPolicy.objects.filter(pk__in=pks).update(retarget_requested_at=timezone.now())
    for pk in pks:
        enqueue_on_commit(sla_policy_retarget, pk)  # type: ignore[no-untyped-call]  # tracker.tasks is untyped


# A retarget run holds its policy for this long without news before another may take over.
RETARGET_LEASE = timedelta(minutes=5)


def policies_awaiting_retarget(*, now: datetime, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Requests whose task never ran (the broker was down) or whose run died: the sweep
    queues them again. A run in progress (its lease fresh) is left alone."""
    return list(
        SLAPolicy.objects.filter(retarget_requested_at__lte=now - older_than)
        .filter(Q(retarget_started_at__isnull=True) | Q(retarget_started_at__lt=now - RETARGET_LEASE))
        .values_list("pk", flat=True)
    )


def policy_retarget(*, policy_id: int, at: datetime | None = None, batch: int = 200) -> int:
    """Recompute the clocks a policy still runs (running or paused) after it or its calendar
    was edited: each takes the policy that matches its incident now (the same one, edited,
    or a more specific one; the same one when none matches any more), and its due instant is
    worked out again from the clock's original start with that policy's targets and
    calendar. Stretches already spent paused stay left out; the pause rules apply from now
    on (a clock on hold for a reason that no longer pauses resumes counting). Clocks already
    met or breached keep their outcome. Idempotent: run twice, the same instants; a breach
    fires once; one run per policy at a time (a lease). Returns the incidents done."""
    now = timezone.now()
    mine = SLAPolicy.objects.filter(pk=policy_id)
    # Take the lease: one run per policy at a time (a duplicate task returns at once).
    claimed = (
        mine.filter(retarget_requested_at__isnull=False)
        .filter(Q(retarget_started_at__isnull=True) | Q(retarget_started_at__lt=now - RETARGET_LEASE))
        .update(retarget_started_at=now)
    )
    if not claimed:
        return 0
    requested = mine.values_list("retarget_requested_at", flat=True).get()
    done, last = 0, 0
    try:
        while True:
            ids = list(
                SLATimer.objects.filter(policy_id=policy_id, is_active=True, incident_id__gt=last)
                .order_by("incident_id")
                .values_list("incident_id", flat=True)
                .distinct()[:batch]
            )
            if not ids:
                break
            for incident_id in ids:
                _retarget_incident(incident_id, policy_id, at or timezone.now())
            done += len(ids)
            last = ids[-1]
            mine.update(retarget_started_at=timezone.now())  # still at it: keep the lease
        # Done, unless another edit asked again meanwhile (then its own task runs).
        mine.filter(retarget_requested_at=requested).update(retarget_requested_at=None)
    finally:
        mine.update(retarget_started_at=None)
    return done


@transaction.atomic
def _retarget_incident(incident_id: int, policy_id: int, at: datetime) -> None:
    incident = incident_services.incident_lock(Incident(pk=incident_id))
    timers = locked_timers(incident)
    chosen = policy_for_incident(incident)
    again: set[int] = set()
    for timer in timers:
        policy = chosen or timer.policy
        if not timer.is_active or timer.policy_id != policy_id or policy is None:
            continue
        timer.policy = policy
        timer.target_minutes = target_minutes(policy, timer.metric)
        again.add(timer.pk)
    if again:
        sync_timers(incident, timers, at=at, recompute=again)
