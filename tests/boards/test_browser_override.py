"""Browser: the board's Pull button, refused for WIP, offers the same override dialog as a
drag (reason code and note), and the pull goes through with them (issue 14, item 4)."""

import pytest

from boards.models import CardMove, ClassOfService, ColumnCategory, LaneKind, ReasonKind

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pull_refused_for_wip_opens_the_override_dialog_and_pulls_with_reason_and_note(
    page, live_server, login, developer_user, screenshot
):
    board = BoardFactory(name="Pull board", columns__wip={ColumnCategory.IN_PROGRESS: (None, 1)})
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
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    page.get_by_role("button", name=f"Pull {card.key}").click()
    dialog = page.locator("#wip-dialog")
    dialog.wait_for(state="visible")
    assert "WIP limit of 1" in dialog.inner_text()
    assert page.locator("#wip-confirm").inner_text() == "Pull anyway"
    page.get_by_label("Override reason").select_option("production-incident")
    page.get_by_label("Note").fill("Card payments down for Contoso")
    screenshot(page, "board-pull-override-dialog")
    with page.expect_response(lambda r: "/pull/" in r.url and r.status == 200):
        page.get_by_role("button", name="Pull anyway").click()
    page.wait_for_function(
        f"document.querySelector('ol.cell[data-column=\"{doing.pk}\"] #card-{card.pk}') !== null"
    )
    page.wait_for_load_state("networkidle")
    card.refresh_from_db()
    assert card.column == doing and card.assignee == developer_user
    move = CardMove.objects.filter(card=card).latest("id")
    assert move.override_reason == reason
    assert move.note == "pulled — WIP override: Card payments down for Contoso"
    screenshot(page, "board-after-pull-override")


def test_cancelling_the_pull_dialog_leaves_the_card(page, live_server, login, developer_user):
    board = BoardFactory(name="Pull board 2", columns__wip={ColumnCategory.IN_PROGRESS: (None, 0)})
    ready = column_of(board, ColumnCategory.READY)
    card = CardFactory(board=board, column=ready, lane=lane_of(board), title="Stay")
    ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="other", label="Other")
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    page.get_by_role("button", name=f"Pull {card.key}").click()
    page.locator("#wip-dialog").wait_for(state="visible")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_load_state("networkidle")
    card.refresh_from_db()
    assert card.column == ready and card.assignee is None
    assert page.locator(f'ol.cell[data-column="{ready.pk}"] #card-{card.pk}').is_visible()
