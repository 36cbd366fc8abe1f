"""Risky sprint starts and closes ask first; a closed sprint keeps its unfinished cards and
where each went; the support rotation is a round robin in an editable order (issue 14,
item 5 and the rotation)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from boards.models import ColumnCategory
from org.models import TeamSupportModel
from sprints import services
from sprints.models import SprintCarryOver, SprintState

pytestmark = pytest.mark.django_db


@pytest.fixture
def future_sprint(team, board, po_user):
    start = timezone.localdate() + timedelta(days=5)
    return services.sprint_create(
        team=team, name="Later", start=start, end=start + timedelta(days=11), board=board, actor=po_user
    )


# ------------------------------------------------------------------ start
def test_starting_before_the_first_day_needs_confirmation(po_user, future_sprint):
    with pytest.raises(services.ConfirmationRequired) as exc:
        services.sprint_start(sprint=future_sprint, actor=po_user)
    assert exc.value.code == "confirmation_required" and "starts 5 days early" in exc.value.detail
    future_sprint.refresh_from_db()
    assert future_sprint.state == SprintState.PLANNING and future_sprint.started_at is None
    services.sprint_start(sprint=future_sprint, actor=po_user, confirm=True)
    future_sprint.refresh_from_db()
    assert future_sprint.state == SprintState.ACTIVE


def test_starting_over_capacity_needs_confirmation_and_says_by_how_much(po_user, sprint, make_card):
    for estimate in (13, 8):  # 21 points against a line of 24 - 4.8 = 19.2
        make_card(estimate=estimate, sprint=sprint)
    preview = services.sprint_start_preview(sprint=sprint)
    assert preview.days_early == 0 and float(preview.over_capacity_by) == 1.8
    with pytest.raises(services.ConfirmationRequired) as exc:
        services.sprint_start(sprint=sprint, actor=po_user)
    assert "over capacity by 1.8 points" in exc.value.detail
    assert "21 points committed" in exc.value.detail


def test_on_time_start_within_capacity_needs_no_confirmation(po_user, sprint, make_card):
    make_card(estimate=5, sprint=sprint)
    services.sprint_start(sprint=sprint, actor=po_user)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE


def test_a_sprint_whose_capacity_is_not_known_yet_starts_without_asking(
    po_user, sprint, make_card, monkeypatch
):
    """No availability and no velocity yet: there is no capacity line to be over (the
    contract's plain start of a new team's first sprint must work)."""
    make_card(estimate=3, sprint=sprint)
    preview = services.sprint_start_preview(sprint=sprint)
    preview.capacity = preview.capacity_line = 0
    preview.over_capacity_by = preview.committed
    assert preview.risks == []
    monkeypatch.setattr(services.lifecycle, "sprint_start_preview", lambda **kw: preview)
    services.sprint_start(sprint=sprint, actor=po_user)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE


def test_api_start_early_is_409_until_confirmed(api, po_user, future_sprint):
    client = api.as_user(po_user)
    r = client.post(f"/api/v1/sprints/{future_sprint.pk}/start/", {}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "confirmation_required" and "early" in r.json()["detail"]
    r = client.get(f"/api/v1/sprints/{future_sprint.pk}/start-preview/")
    assert r.status_code == 200 and r.json()["days_early"] == 5 and r.json()["risks"]
    r = client.post(f"/api/v1/sprints/{future_sprint.pk}/start/", {"force": True}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "active"


# ------------------------------------------------------------------ close
def test_closing_early_needs_confirmation_and_keeps_the_carry_over(po_user, team, board, sprint, make_card):
    services.sprint_start(sprint=sprint, actor=po_user)
    doing = make_card(estimate=3, category=ColumnCategory.IN_PROGRESS, sprint=sprint)
    ready = make_card(estimate=2, category=ColumnCategory.READY, sprint=sprint)
    make_card(estimate=5, category=ColumnCategory.DONE, sprint=sprint)
    nxt = services.sprint_create(
        team=team, name="Sprint 2", start=sprint.end + timedelta(days=3), board=board, actor=po_user
    )
    days_early = (sprint.end - timezone.localdate()).days
    assert days_early > 0
    preview = services.sprint_close_preview(sprint=sprint, carry_over_to=nxt)
    assert [c.pk for c in preview.unfinished] == [doing.pk, ready.pk]
    assert preview.summary.startswith("2 unfinished cards") and "go to Sprint 2" in preview.summary
    with pytest.raises(services.ConfirmationRequired) as exc:
        services.sprint_close(sprint=sprint, actor=po_user, carry_over_to=nxt)
    assert f"closes {days_early} day" in exc.value.detail
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE and not SprintCarryOver.objects.exists()

    services.sprint_close(sprint=sprint, actor=po_user, carry_over_to=nxt, confirm=True)
    rows = list(SprintCarryOver.objects.filter(sprint=sprint).order_by("card_id"))
    assert [(r.card_id, r.to_sprint_id, r.column_name, float(r.estimate)) for r in rows] == [
        (doing.pk, nxt.pk, "In progress", 3.0),
        (ready.pk, nxt.pk, "Ready", 2.0),
    ]
    # The record stays when the cards move on.
    services.card_sprint_set(card=doing, sprint=None, actor=po_user)
    assert SprintCarryOver.objects.filter(sprint=sprint).count() == 2


def test_closing_on_the_last_day_needs_no_confirmation(po_user, sprint, make_card):
    services.sprint_start(sprint=sprint, actor=po_user)
    card = make_card(estimate=3, category=ColumnCategory.READY, sprint=sprint)
    last_day = timezone.make_aware(
        timezone.datetime.combine(sprint.end, timezone.datetime.min.time())
    ) + timedelta(hours=17)
    services.sprint_close(sprint=sprint, actor=po_user, at=last_day)
    row = SprintCarryOver.objects.get(sprint=sprint)
    assert (row.card_id, row.to_sprint_id, row.destination) == (card.pk, None, "backlog")


def test_api_close_early_is_409_then_shows_where_each_card_went(api, po_user, team, board, sprint, make_card):
    client = api.as_user(po_user)
    services.sprint_start(sprint=sprint, actor=po_user)
    card = make_card(estimate=3, category=ColumnCategory.IN_PROGRESS, sprint=sprint)
    nxt = services.sprint_create(
        team=team, name="Sprint 2", start=sprint.end + timedelta(days=3), board=board, actor=po_user
    )
    r = client.post(f"/api/v1/sprints/{sprint.pk}/close/", {"carry_over_to": nxt.pk}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "confirmation_required"
    r = client.get(f"/api/v1/sprints/{sprint.pk}/close-preview/?carry_over_to={nxt.pk}")
    assert r.json()["unfinished"] == [{"card": card.pk, "key": card.key, "column": "In progress"}]
    r = client.post(
        f"/api/v1/sprints/{sprint.pk}/close/", {"carry_over_to": nxt.pk, "confirm": True}, format="json"
    )
    assert r.status_code == 200
    (row,) = r.json()["carried_over"]
    assert row["card"] == card.pk and row["destination"] == "sprint" and row["to_sprint"] == nxt.pk
    assert row["to_sprint_name"] == "Sprint 2" and row["column_name"] == "In progress"
    assert client.get(f"/api/v1/sprints/{sprint.pk}/").json()["carried_over"] == r.json()["carried_over"]


# ------------------------------------------------------------------ browser pages (no JavaScript)
def test_close_page_says_what_happens_and_closes_only_when_confirmed(client, po_user, sprint, make_card):
    services.sprint_start(sprint=sprint, actor=po_user)
    card = make_card(estimate=3, category=ColumnCategory.READY, sprint=sprint)
    client.force_login(po_user)
    url = reverse("sprints:close", args=[sprint.pk])
    r = client.get(url)
    body = r.content.decode()
    assert r.status_code == 200 and card.key in body and "the product backlog" in body and "early" in body
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE
    r = client.post(url, {"carry_over_to": ""})  # an old one-click form: refused, page again
    assert r.status_code == 409
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE
    r = client.post(url, {"carry_over_to": "", "confirm": "1"})
    assert r.status_code == 302
    r = client.get(reverse("sprints:detail", args=[sprint.pk]))
    page = r.content.decode()
    assert 'id="carried-over"' in page and card.key in page and "the product backlog" in page


def test_start_page_says_how_early_and_how_far_over(client, po_user, future_sprint, team, board):
    client.force_login(po_user)
    r = client.get(reverse("sprints:start", args=[future_sprint.pk]))
    assert r.status_code == 200 and "starts 5 days early" in r.content.decode()
    r = client.post(reverse("sprints:start", args=[future_sprint.pk]), {"confirm": "1"})
    assert r.status_code == 302
    future_sprint.refresh_from_db()
    assert future_sprint.state == SprintState.ACTIVE


# ------------------------------------------------------------------ rotation
def test_rotation_follows_the_edited_order_and_is_shown_ahead(client, po_user, team, board):
    services.team_settings_update(team=team, actor=po_user, support_model=TeamSupportModel.ROTATION)
    team.refresh_from_db()
    dev0, dev1, dev2 = sorted(team.members.all(), key=lambda u: u.username)
    services.team_rotation_set(team=team, actor=po_user, users=[dev2, dev0, dev1])
    start = timezone.localdate()
    first = services.sprint_create(team=team, name="R1", start=start, board=board, actor=po_user)
    second = services.sprint_create(
        team=team, name="R2", start=start + timedelta(days=14), board=board, actor=po_user
    )
    assert (first.support_member, second.support_member) == (dev2, dev0)
    forecast = services.support_rotation_forecast(team, count=3)
    assert [(row["name"], row["member"]) for row in forecast] == [
        ("R1", dev2), ("R2", dev0),
        ("Next sprint +1", dev1), ("Next sprint +2", dev2), ("Next sprint +3", dev0),
    ]  # fmt: skip

    client.force_login(po_user)
    url = reverse("sprints:team_settings", args=[team.pk])
    r = client.post(url, {"action": "rotation", "move": f"up:{dev1.pk}"})
    assert r.status_code == 302
    assert services.rotation_order(team) == [dev2, dev1, dev0]
    page = client.get(url).content.decode()
    assert 'id="rotation-ahead"' in page and "Next sprint +1" in page
    plan = client.get(reverse("sprints:plan", args=[first.pk])).content.decode()
    assert 'id="rotation-ahead"' in plan


def test_rotation_must_place_every_member_once(po_user, team):
    from django.core.exceptions import ValidationError

    members = list(team.members.all())
    with pytest.raises(ValidationError):
        services.team_rotation_set(team=team, actor=po_user, users=members[:2])
    with pytest.raises(ValidationError):
        services.team_rotation_set(team=team, actor=po_user, users=[members[0], *members])


def test_rotation_api_reads_and_sets_the_order_and_is_audited(api, po_user, developer_user, team):
    from audit.models import AuditEntry

    services.team_settings_update(team=team, actor=po_user, support_model=TeamSupportModel.ROTATION)
    ids = sorted(team.members.values_list("pk", flat=True))
    url = f"/api/v1/teams/{team.pk}/rotation/"
    r = api.as_user(developer_user).get(url)
    assert r.status_code == 200 and r.json()["members"] and len(r.json()["ahead"]) == 4
    assert api.put(url, {"members": ids[::-1]}, format="json").status_code == 403
    r = api.as_user(po_user).put(url, {"members": ids[::-1]}, format="json")
    assert r.status_code == 200 and r.json()["members"] == ids[::-1]
    assert r.json()["ahead"][0]["member"] == ids[-1]
    r = api.put(url, {"members": ids[:1]}, format="json")
    assert r.status_code == 400 and "rotation" in r.json()
    entry = AuditEntry.objects.filter(object_id=str(team.pk), changes__has_key="support_rotation").get()
    assert (
        entry.actor == po_user
        and entry.changes["support_rotation"][1][0] == team.members.get(pk=ids[-1]).username
    )
