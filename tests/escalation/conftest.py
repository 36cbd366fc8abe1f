from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from boards.models import ColumnCategory
from incidents.services import incident_create
from sprints.models import Sprint, SprintMember, SprintState
from tests.boards.factories import BoardFactory, column_of
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory


@pytest.fixture
def desk_team(desk_user):
    return TeamFactory(name="Service Desk", tier=1, members=[desk_user])


@pytest.fixture
def support_team(engineer_user):
    return TeamFactory(name="App Support", tier=2, members=[engineer_user])


@pytest.fixture
def dev_team(developer_user):
    team = DevTeamFactory(name="Payments Dev", members=[developer_user])
    team.default_estimates = {"P1": 5, "P2": 3, "P3": 2, "P4": 1, "P5": 1}
    team.save()
    return team


@pytest.fixture
def board(dev_team):
    return BoardFactory(
        name="Payments board", teams=[dev_team], columns__wip={ColumnCategory.IN_PROGRESS: (None, 3)}
    )


@pytest.fixture
def service(dev_team, desk_team):
    return ServiceFactory(name="Payments API", team=dev_team, support_team=desk_team)


@pytest.fixture
def log_incident(service, desk_user):
    def log(impact="high", urgency="medium", **kwargs):
        return incident_create(
            actor=desk_user,
            title=kwargs.pop("title", "Card payments fail"),
            service=service,
            impact=impact,
            urgency=urgency,
            **kwargs,
        )

    return log


@pytest.fixture
def active_sprint(dev_team, board, developer_user):
    """An active 10-working-day sprint with one committed 5-point story."""
    from boards.services import card_create
    from sprints.services import card_sprint_set, sprint_start

    today = timezone.localdate()
    sprint = Sprint.objects.create(
        team=dev_team,
        board=board,
        name="Sprint 7",
        start=today - timedelta(days=3),
        end=today + timedelta(days=10),
        state=SprintState.PLANNING,
    )
    SprintMember.objects.get_or_create(
        sprint=sprint, user=developer_user, defaults={"focus_factor": Decimal("1")}
    )
    for i, estimate in enumerate((5, 3, 2)):
        story = card_create(
            board=board,
            title=f"Story {i}",
            actor=None,
            estimate=Decimal(estimate),
            column=column_of(board, ColumnCategory.READY),
        )
        story.backlog_rank = (i + 1) * 1024
        story.save(update_fields=["backlog_rank"])
        card_sprint_set(card=story, sprint=sprint, actor=None)
    sprint_start(sprint=sprint, actor=None, confirm=True)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE
    return sprint


@pytest.fixture
def tier2_incident(log_incident, support_team, engineer_user, desk_user):
    """An incident the desk logged and handed to tier 2, where the engineer took it: the
    engineer is its support owner (assignee, member of its group), so may escalate it."""
    from incidents.services import incident_assign, incident_escalate

    def make(**kwargs):
        incident = incident_escalate(
            incident=log_incident(**kwargs), actor=desk_user, team=support_team, note="Tier 2"
        )
        return incident_assign(incident=incident, actor=engineer_user, assignee=engineer_user)

    return make
