"""One WIP override flow for every way a card moves (drag, Move form, Pull button, API),
and one rule for blocked cards reaching done (issue 14, items 4 and "blocked to done")."""

import pytest
from django.core.exceptions import ValidationError

from boards import services
from boards.models import BlockPeriod, CardMove, ClassOfService, ColumnCategory, LaneKind, ReasonKind
from tracker.exceptions import DomainError, WipLimitExceeded

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_board():
    """In progress holds one card at most, and holds one already; an expedite card waits in Ready."""
    board = BoardFactory(columns__wip={ColumnCategory.IN_PROGRESS: (None, 1)})
    ready, doing = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    CardFactory(board=board, column=doing, lane=lane_of(board), title="Already in progress")
    card = CardFactory(
        board=board,
        column=ready,
        lane=lane_of(board, LaneKind.EXPEDITE),
        class_of_service=ClassOfService.EXPEDITE,
        title="Expedite fix",
    )
    reason = ReasonCodeFactory(
        kind=ReasonKind.WIP_OVERRIDE, code="production-incident", label="Production incident"
    )
    return board, card, doing, reason


# ------------------------------------------------------------------ service
def test_pull_over_wip_takes_the_override_reason_and_note_onto_the_move(full_board, developer_user):
    board, card, doing, reason = full_board
    with pytest.raises(WipLimitExceeded):
        services.card_pull(card=card, actor=developer_user)
    services.card_pull(
        card=card, actor=developer_user, override_reason=reason, override_note="P1 for Contoso, cannot wait"
    )
    card.refresh_from_db()
    assert card.column == doing and card.assignee == developer_user
    move = CardMove.objects.filter(card=card).latest("id")
    assert move.override_reason == reason
    assert move.note == "pulled — WIP override: P1 for Contoso, cannot wait"


def test_move_keeps_the_override_note_and_a_note_without_reason_is_refused(full_board, developer_user):
    board, card, doing, reason = full_board
    with pytest.raises(ValidationError) as exc:
        services.card_move(card=card, column=doing, actor=developer_user, override_note="why not")
    assert "override_reason" in exc.value.message_dict
    services.card_move(
        card=card, column=doing, actor=developer_user, override_reason=reason, override_note="why"
    )
    assert CardMove.objects.filter(card=card).latest("id").note == "WIP override: why"


def test_blocked_card_to_done_is_refused_unless_the_move_unblocks_it(developer_user):
    board = BoardFactory()
    doing, done = column_of(board, ColumnCategory.IN_PROGRESS), column_of(board, ColumnCategory.DONE)
    card = CardFactory(board=board, column=doing)
    block = ReasonCodeFactory(kind=ReasonKind.BLOCK, code="waiting-vendor", label="Waiting on vendor")
    services.card_block(card=card, reason=block, actor=developer_user)
    with pytest.raises(DomainError) as exc:
        services.card_move(card=card, column=done, actor=developer_user)
    assert exc.value.code == "card_blocked" and "Waiting on vendor" in exc.value.detail
    card.refresh_from_db()
    assert card.column == doing and card.blocked
    # A blocked card may still move between columns that are not done.
    services.card_move(card=card, column=column_of(board, ColumnCategory.READY), actor=developer_user)
    services.card_move(card=card, column=done, actor=developer_user, unblock=True)
    card.refresh_from_db()
    assert card.column == done and not card.blocked and card.done_at is not None
    assert BlockPeriod.objects.get(card=card).ended_at is not None
    assert CardMove.objects.filter(card=card).latest("id").note == "unblocked with the move"


# ------------------------------------------------------------------ API
def test_api_pull_accepts_override_reason_and_note_like_move(api, full_board, developer_user):
    board, card, doing, reason = full_board
    client = api.as_user(developer_user)
    r = client.post(f"/api/v1/cards/{card.pk}/pull/", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "wip_limit_exceeded"
    r = client.post(
        f"/api/v1/cards/{card.pk}/pull/",
        {"override_reason": "production-incident", "override_note": "Customer down"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["column"] == doing.pk
    move = CardMove.objects.filter(card=card).latest("id")
    assert (move.override_reason, move.note) == (reason, "pulled — WIP override: Customer down")


def test_api_move_note_without_reason_is_400(api, full_board, developer_user):
    board, card, doing, reason = full_board
    r = api.as_user(developer_user).post(
        f"/api/v1/cards/{card.pk}/move/", {"column": doing.pk, "override_note": "x"}, format="json"
    )
    assert r.status_code == 400 and "override_reason" in r.json()


def test_api_move_blocked_card_to_done_is_409_card_blocked_then_unblock(api, developer_user):
    board = BoardFactory()
    done = column_of(board, ColumnCategory.DONE)
    card = CardFactory(board=board, column=column_of(board, ColumnCategory.IN_PROGRESS))
    services.card_block(card=card, reason=ReasonCodeFactory(kind=ReasonKind.BLOCK), actor=developer_user)
    client = api.as_user(developer_user)
    r = client.post(f"/api/v1/cards/{card.pk}/move/", {"column": done.pk}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "card_blocked"
    r = client.post(f"/api/v1/cards/{card.pk}/move/", {"column": done.pk, "unblock": True}, format="json")
    assert r.status_code == 200 and r.json()["blocked"] is False and r.json()["column"] == done.pk


# ------------------------------------------------------------------ browser forms (no JavaScript)
def test_pull_page_offers_the_override_and_pulls_with_it(client, full_board, developer_user):
    board, card, doing, reason = full_board
    client.force_login(developer_user)
    r = client.post(f"/boards/cards/{card.pk}/pull/")
    assert r.status_code == 409
    body = r.content.decode()
    assert "WIP limit of 1" in body and 'name="override_reason"' in body and 'name="override_note"' in body
    r = client.post(
        f"/boards/cards/{card.pk}/pull/", {"override_reason": reason.pk, "override_note": "Hot fix"}
    )
    assert r.status_code == 302
    card.refresh_from_db()
    assert card.column == doing and card.assignee == developer_user
    assert CardMove.objects.filter(card=card).latest("id").note == "pulled — WIP override: Hot fix"


def test_move_form_takes_the_override_note_and_refuses_blocked_to_done(client, full_board, developer_user):
    board, card, doing, reason = full_board
    client.force_login(developer_user)
    url = f"/boards/cards/{card.pk}/move/"
    r = client.post(
        url,
        {"column": doing.pk, "lane": card.lane_id, "override_reason": reason.pk, "override_note": "Outage"},
    )
    assert r.status_code == 302
    assert CardMove.objects.filter(card=card).latest("id").note == "WIP override: Outage"
    services.card_block(card=card, reason=ReasonCodeFactory(kind=ReasonKind.BLOCK), actor=developer_user)
    done = column_of(board, ColumnCategory.DONE)
    r = client.post(url, {"column": done.pk, "lane": card.lane_id})
    assert r.status_code == 409 and "is blocked" in r.content.decode()
    assert 'name="unblock"' in r.content.decode()
    r = client.post(url, {"column": done.pk, "lane": card.lane_id, "unblock": "on"})
    assert r.status_code == 302
    card.refresh_from_db()
    assert card.column == done and not card.blocked
