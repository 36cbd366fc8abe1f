"""Incidents with a history, built through the real services (with past instants), for
the breach-action tests: the same seeds run in-process and through a real worker."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.roles import Role
from incidents.models import Incident
from org.models import Team
from sla.models import BusinessCalendar, SLAPolicy
from tests.boards.factories import BoardFactory
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory, UserFactory


@dataclass
class Scene:
    desk: object
    engineer: object
    developer: object
    desk_team: Team
    support_team: Team
    dev_team: Team
    policy: SLAPolicy
    service: object


def scene(*, escalate=True, major=False, resolution_minutes=240) -> Scene:
    """Tier 1 desk, tier 2 support group, a development team with a board, one service,
    and a 24×7 P2 policy whose breach escalates (and optionally declares major)."""
    desk = UserFactory(roles=[Role.SERVICE_DESK], username="desk1", first_name="Dana", last_name="Desk")
    engineer = UserFactory(roles=[Role.SUPPORT_ENGINEER], username="eng2", first_name="Erin", last_name="Eng")
    developer = UserFactory(roles=[Role.DEVELOPER], username="dev3")
    UserFactory(roles=[Role.MANAGER], username="boss")
    desk_team = TeamFactory(name="Service Desk", tier=1, members=[desk])
    support_team = TeamFactory(name="App Support", tier=2, members=[engineer])
    dev_team = DevTeamFactory(name="Payments Dev", members=[developer])
    BoardFactory(name="Payments board", teams=[dev_team])
    service = ServiceFactory(name="Payments API", team=dev_team, support_team=desk_team)
    calendar = BusinessCalendar.objects.create(name="Around the clock", always_open=True, hours={})
    policy = SLAPolicy.objects.create(
        name="P2 standard",
        priority="P2",
        response_minutes=60,
        resolution_minutes=resolution_minutes,
        calendar=calendar,
        escalate_on_breach=escalate,
        declare_major_on_breach=major,
    )
    return Scene(desk, engineer, developer, desk_team, support_team, dev_team, policy, service)


def tier2_incident(s: Scene, *, logged_at: datetime) -> Incident:
    """Logged by the desk, handed to tier 2 ten minutes later, taken by the engineer."""
    from incidents.services import incident_create, incident_escalate, incident_take

    incident = incident_create(
        actor=s.desk,
        title="Card payments fail",
        service=s.service,
        impact="high",
        urgency="medium",
        at=logged_at,
    )
    incident = incident_escalate(
        incident=incident,
        actor=s.desk,
        team=s.support_team,
        note="Needs tier 2",
        at=logged_at + timedelta(minutes=10),
    )
    return incident_take(incident=incident, actor=s.engineer, at=logged_at + timedelta(minutes=15))


def back_from_development(s: Scene, *, days_ago=4) -> Incident:
    """A tier 2 incident whose resolution clock fell due days ago while no worker ran (so
    the breach is not recorded yet), escalated to development an hour after that, and
    back with its support owner two days ago: in progress, tier 2, assigned."""
    from escalation.services import escalations_on_card_done, incident_escalate_to_development

    logged = timezone.now() - timedelta(days=days_ago)
    incident = tier2_incident(s, logged_at=logged)
    result = incident_escalate_to_development(
        incident=incident, actor=s.engineer, note="Looks like a rounding bug", at=logged + timedelta(hours=5)
    )
    escalations_on_card_done(card=result.card, actor=s.developer, at=timezone.now() - timedelta(days=2))
    incident = Incident.objects.select_related("team", "assignee").get(pk=incident.pk)
    assert (incident.status, incident.team, incident.assignee) == ("in_progress", s.support_team, s.engineer)
    return incident
