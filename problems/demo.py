"""Demo problems: a known error grouping the Safari login loops (its workaround shows on the
incidents and is offered to the desk for the next one), and a problem under investigation."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident

from .models import Problem
from .services import problem_create


def seed(ctx, log):
    if Problem.objects.exists():
        log("problems already there")
        return
    now = timezone.now()
    free = Incident.objects.filter(problem_link__isnull=True)
    safari = list(free.filter(Q(title__icontains="safari")).order_by("created_at")[:3])
    known = problem_create(
        actor=ctx.users["tariq"],
        owner=ctx.users["tariq"],
        title="Safari sign-in and 3-D Secure pages loop",
        description="Safari 17 drops the session cookie set on the redirect back from the identity "
        "provider, so the page starts again.",
        workaround="Ask the customer to allow cross-site tracking for our domain in Safari's settings "
        "(Privacy), or to use another browser until the fix is released.",
        incidents=safari,
        at=now - timedelta(hours=1),
    )
    exports = list(free.filter(title__icontains="export").exclude(pk__in=[i.pk for i in safari])[:2])
    investigating = problem_create(
        actor=ctx.users["tess"],
        title="Large exports time out",
        description="CSV exports of more than a few thousand rows stop after 30 s.",
        incidents=exports,
        at=now - timedelta(hours=3),
    )
    log(f"problems {known.key} (known error, {len(safari)} incidents) and {investigating.key}")
