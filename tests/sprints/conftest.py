from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from boards.models import ColumnCategory
from sprints import services
from tests.boards.factories import BoardFactory, CardFactory, column_of
from tests.factories import DevTeamFactory


@pytest.fixture
def team(make_user):
    devs = [make_user(Role.DEVELOPER, username=f"dev{i}") for i in range(3)]
    return DevTeamFactory(name="Payments Dev", members=devs)


@pytest.fixture
def board(team):
    return BoardFactory(name="Payments board", teams=[team])


@pytest.fixture
def sprint(team, board, po_user):
    today = timezone.localdate()
    start = today - timedelta(days=today.weekday())  # this week's Monday
    return services.sprint_create(
        team=team, name="Sprint 1", start=start, end=start + timedelta(days=11), board=board, actor=po_user
    )


@pytest.fixture
def make_card(board):
    counter = {"rank": 0}

    def make(estimate=3, category=ColumnCategory.BACKLOG, sprint=None, **kwargs):
        counter["rank"] += 1024
        kwargs.setdefault("backlog_rank", counter["rank"])
        card = CardFactory(board=board, estimate=estimate, column=column_of(board, category), **kwargs)
        if category == ColumnCategory.DONE:
            card.done_at = timezone.now()
            card.save(update_fields=["done_at"])
        if sprint is not None:
            card.sprint = sprint
            card.save(update_fields=["sprint"])
        return card

    return make
