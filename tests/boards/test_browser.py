"""Browser journeys on the board in headless Chromium."""

from datetime import timedelta

import pytest
from django.utils import timezone

from boards.models import Card, CardMove, ColumnCategory, ReasonKind

from .factories import BoardFactory, CardFactory, ReasonCodeFactory, column_of, lane_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drag(page, source, target):
    """Drag with real mouse events, in small steps, as a person would."""
    s = source.bounding_box()
    t = target.bounding_box()
    page.mouse.move(s["x"] + s["width"] / 2, s["y"] + 12)
    page.mouse.down()
    page.mouse.move(s["x"] + s["width"] / 2 + 10, s["y"] + 20, steps=5)
    page.mouse.move(t["x"] + t["width"] / 2, t["y"] + 30, steps=20)
    page.mouse.up()


def cell(page, column, lane):
    return page.locator(f'ol.cell[data-column="{column.pk}"][data-lane="{lane.pk}"]')


def test_developer_drags_a_card_from_ready_to_in_progress(
    page, live_server, login, developer_user, screenshot
):
    board = BoardFactory(name="Drag board")
    ready, doing = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    lane = lane_of(board)
    card = CardFactory(board=board, column=ready, lane=lane, title="Drag me")
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    source = page.locator(f"#card-{card.pk}")
    with page.expect_response(lambda r: "/move/" in r.url and r.status == 200):
        drag(page, source, cell(page, doing, lane))
    page.wait_for_function(
        f"document.querySelector('ol.cell[data-column=\"{doing.pk}\"] #card-{card.pk}') !== null"
    )
    page.wait_for_load_state("networkidle")
    card.refresh_from_db()
    assert card.column == doing
    page.reload()
    assert cell(page, doing, lane).locator(f"#card-{card.pk}").is_visible()
    assert CardMove.objects.filter(card=card, to_column=doing, actor=developer_user).exists()


def test_move_over_wip_max_asks_for_a_reason(page, live_server, login, developer_user, screenshot):
    board = BoardFactory(name="WIP board", columns__wip={ColumnCategory.IN_PROGRESS: (None, 1)})
    ready, doing = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    lane = lane_of(board)
    CardFactory(board=board, column=doing, lane=lane, title="Already in progress")
    card = CardFactory(board=board, column=ready, lane=lane, title="One too many")
    reason = ReasonCodeFactory(
        kind=ReasonKind.WIP_OVERRIDE, code="production-incident", label="Production incident"
    )
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    drag(page, page.locator(f"#card-{card.pk}"), cell(page, doing, lane))
    dialog = page.locator("#wip-dialog")
    dialog.wait_for(state="visible")
    assert "WIP limit" in dialog.inner_text()
    screenshot(page, "board-wip-dialog")
    page.get_by_label("Override reason").select_option("production-incident")
    # The card is already in its new cell (Sortable moved it): wait for the server's answer.
    with page.expect_response(lambda r: "/move/" in r.url and r.status == 200):
        page.get_by_role("button", name="Move anyway").click()
    page.wait_for_function(
        f"document.querySelector('ol.cell[data-column=\"{doing.pk}\"] #card-{card.pk}') !== null"
    )
    page.wait_for_load_state("networkidle")
    move = CardMove.objects.filter(card=card).latest("id")
    assert move.to_column == doing and move.override_reason == reason
    # The grid is re-read after the move: its column head then flags the override.
    page.locator(f"#col-{doing.pk} .wip-over").wait_for(state="visible")
    assert "over wip max" in page.locator(f"#col-{doing.pk}").inner_text().lower()


def test_cancelling_the_reason_leaves_the_card(page, live_server, login, developer_user):
    board = BoardFactory(name="WIP board 2", columns__wip={ColumnCategory.IN_PROGRESS: (None, 0)})
    ready, doing = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    lane = lane_of(board)
    card = CardFactory(board=board, column=ready, lane=lane)
    ReasonCodeFactory(kind=ReasonKind.WIP_OVERRIDE, code="production-incident")
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    drag(page, page.locator(f"#card-{card.pk}"), cell(page, doing, lane))
    page.locator("#wip-dialog").wait_for(state="visible")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_function(
        f"document.querySelector('ol.cell[data-column=\"{ready.pk}\"] #card-{card.pk}') !== null"
    )
    card.refresh_from_db()
    assert card.column == ready


def test_other_viewer_sees_the_move_without_reloading(page, browser, live_server, login, developer_user):
    from boards import services

    board = BoardFactory(name="Live board")
    ready, doing = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    card = CardFactory(board=board, column=ready)
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    services.card_move(card=card, column=doing, actor=developer_user)
    page.wait_for_function(
        f"document.querySelector('ol.cell[data-column=\"{doing.pk}\"] #card-{card.pk}') !== null",
        timeout=10000,
    )


def test_keyboard_move_menu(page, live_server, login, developer_user):
    board = BoardFactory(name="Keyboard board")
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    card = CardFactory(board=board, title="Keyboard card")
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    page.get_by_role("link", name=f"Move {card.key}…").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Column").select_option(str(doing.pk))
    page.get_by_label("Position in the cell").fill("0")
    page.get_by_role("button", name="Move").click()
    page.wait_for_url(f"**/boards/{board.pk}/")
    card.refresh_from_db()
    assert card.column == doing


def test_screenshots_of_demo_board_card_and_metrics(page, live_server, login, developer_user, screenshot):
    from boards import demo
    from tracker import demo as tracker_demo

    ctx = tracker_demo.seed_organisation(lambda m: None)
    demo.seed(ctx, lambda m: None)
    board = ctx.extra["board"]
    login(page, developer_user)
    page.goto(f"{live_server.url}/boards/{board.pk}/")
    screenshot(page, "board")
    recent = timezone.now() - timedelta(days=14)
    shown = Card.objects.filter(board=board).exclude(column__category="done", done_at__lt=recent).count()
    assert page.locator(".bcard").count() == shown
    screenshot(page, "board")
    blocked = Card.objects.filter(board=board, blocked=True).first()
    page.goto(f"{live_server.url}/boards/cards/{blocked.pk}/")
    screenshot(page, "board-card-detail")
    page.goto(f"{live_server.url}/boards/{board.pk}/metrics/")
    page.wait_for_function("document.querySelector('#cfd-chart').width > 0")
    page.wait_for_timeout(300)
    screenshot(page, "board-metrics")


def test_product_owner_sets_up_a_board_and_limits_the_expedite_lane(
    page, live_server, login, po_user, developer_user, screenshot
):
    from boards.models import Board, LaneKind
    from tests.factories import DevTeamFactory

    DevTeamFactory(name="Mobile Dev")
    login(page, po_user)
    page.goto(f"{live_server.url}/boards/")
    page.get_by_role("link", name="New board").click()
    page.wait_for_url("**/boards/new/")
    page.locator("#id_name").fill("Mobile app")
    page.locator("#id_key_prefix").fill("mob")  # refused: capitals only
    page.get_by_label("Mobile Dev").check()
    page.get_by_role("button", name="Create board").click()
    assert page.get_by_text("Use capitals and digits").is_visible()
    assert page.locator("#id_name").input_value() == "Mobile app"  # kept what was typed
    page.locator("#id_key_prefix").fill("MOB")
    page.get_by_role("button", name="Create board").click()
    page.wait_for_url("**/boards/*/")
    screenshot(page, "board-created")
    board = Board.objects.get(name="Mobile app")
    assert board.key_prefix == "MOB" and [t.name for t in board.teams.all()] == ["Mobile Dev"]
    assert page.get_by_text("0/1 in progress").is_visible()  # the expedite lane, prefilled at 1

    page.get_by_role("link", name="Board settings").click()
    review = board.columns.get(name="Review")
    page.get_by_label("WIP min of Review").fill("5")  # above its maximum of 3
    page.get_by_role("button", name="Save columns").click()
    assert page.get_by_text("wip_min cannot exceed wip_max").is_visible()
    page.get_by_label("WIP min of Review").fill("1")
    page.get_by_role("button", name="Save columns").click()
    assert page.get_by_text("Columns saved.").is_visible()
    review.refresh_from_db()
    assert (review.wip_min, review.wip_max) == (1, 3)
    screenshot(page, "board-settings")
    expedite = board.lanes.get(kind=LaneKind.EXPEDITE)
    assert expedite.wip_max == 1
