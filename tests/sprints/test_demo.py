"""The demo tells its story: three closed sprints, one active, a team losing 25-35 % of its
capacity to support; running it again adds nothing."""

import importlib

import pytest

from sprints import selectors
from sprints.models import ScopeChange, Sprint
from tracker import demo

pytestmark = pytest.mark.django_db


def _seed():
    ctx = demo.seed_organisation(lambda m: None)
    for app in ("boards", "sprints"):
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        module.seed(ctx, lambda m: None)
    return ctx


def test_demo_story_and_idempotence():
    ctx = _seed()
    team = ctx.teams["Payments Dev"]
    sprints = Sprint.objects.filter(team=team)
    assert sorted(sprints.values_list("state", flat=True)) == [
        "active",
        "closed",
        "closed",
        "closed",
        "planning",
    ]
    history = selectors.team_history(team)
    assert len(history) == 3
    for row in history:
        assert 25 <= row["support_share"] <= 35, row
        assert row["velocity"] > 0 and row["committed"] > 0
    active = sprints.get(state="active")
    view = selectors.sprint_panel(active)
    assert view.capacity.basis == "velocity"
    assert view.panel.unplanned > 0 and view.panel.at_risk
    assert view.sprint.support_member is not None
    counts = (Sprint.objects.count(), ScopeChange.objects.count())
    _seed()
    assert (Sprint.objects.count(), ScopeChange.objects.count()) == counts
