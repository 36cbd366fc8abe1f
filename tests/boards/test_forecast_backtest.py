"""The forecast backtest over the demo board: it runs, evaluates cards, and reports."""

import pytest
from django.core.management import call_command

from boards import demo
from boards.backtest import board_backtest
from boards.models import Board
from tracker import demo as tracker_demo

pytestmark = pytest.mark.django_db


def test_backtest_over_the_demo_board(capsys):
    ctx = tracker_demo.seed_organisation(lambda m: None)
    demo.seed(ctx, lambda m: None)
    board = Board.objects.get(name=demo.BOARD_NAME)
    result = board_backtest(board, trials=200)
    assert result.evaluated >= 10
    assert 0 <= result.hits50 <= result.hits85 <= result.evaluated
    assert all(row["p50"] <= row["p85"] for row in result.rows)
    call_command("forecast_backtest", "--trials", "200")
    out = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + out)
    assert f"{demo.BOARD_NAME}: {result.evaluated} done cards evaluated" in out
