from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from sprints.models import Sprint, SprintState
from tests.boards.factories import BoardFactory
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory


@pytest.fixture
def dev_team(db):
    return DevTeamFactory(name="Payments Dev")


@pytest.fixture
def board(dev_team):
    return BoardFactory(name="Payments board", teams=[dev_team])


@pytest.fixture
def service(dev_team):
    return ServiceFactory(name="Payments API", team=dev_team, support_team=TeamFactory(name="Desk"))


@pytest.fixture
def make_incident(service):
    counter = iter(range(1, 100000))

    def make(**kwargs):
        n = next(counter)
        defaults = {
            "key": f"INC-{n}",
            "title": f"Incident {n}",
            "service": service,
            "team": service.support_team,
            "created_at": timezone.now(),
        }
        defaults.update(kwargs)
        return Incident.objects.create(**defaults)

    return make


@pytest.fixture
def make_sprint(dev_team, board):
    def make(state=SprintState.PLANNING, name="Sprint 1", **kwargs):
        today = timezone.localdate()
        return Sprint.objects.create(
            team=dev_team,
            board=board,
            name=name,
            start=today - timedelta(days=2),
            end=today + timedelta(days=11),
            state=state,
            started_at=timezone.now() if state == SprintState.ACTIVE else None,
            **kwargs,
        )

    return make
