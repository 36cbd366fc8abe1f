import pytest

from incidents import demo as incidents_demo
from incidents.models import Incident, IncidentEvent
from tracker import demo

pytestmark = pytest.mark.django_db


def test_demo_incidents_span_statuses_priorities_tiers_and_are_idempotent():
    ctx = demo.seed_organisation(lambda m: None)
    incidents_demo.seed(ctx, lambda m: None)
    count = Incident.objects.count()
    assert count >= 30
    assert set(Incident.objects.values_list("status", flat=True)) >= {
        "new", "in_progress", "on_hold", "resolved", "closed", "cancelled",
    }  # fmt: skip
    assert set(Incident.objects.values_list("priority", flat=True)) >= {"P1", "P2", "P3", "P4", "P5"}
    assert set(Incident.objects.values_list("tier", flat=True)) == {1, 2, 3}
    assert (
        Incident.objects.filter(is_major=True).exists()
        and Incident.objects.filter(parent__isnull=False).exists()
    )
    assert Incident.objects.filter(participants__isnull=False).exists()
    assert IncidentEvent.objects.filter(event="escalated").count() >= 5
    incidents_demo.seed(ctx, lambda m: None)
    assert Incident.objects.count() == count
