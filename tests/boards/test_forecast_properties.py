"""Properties of the pure fix forecast (boards.forecast), with Hypothesis: no database."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from boards import forecast as fc

START = date(2026, 3, 2)
FAST = fc.Settings(trials=200, seed=7)

# Throughput histories with enough done cards to forecast from: 14–70 days of 0–6 a day.
histories = st.lists(st.integers(min_value=0, max_value=6), min_size=14, max_size=70).filter(
    lambda days: sum(days) >= fc.DEFAULT_MIN_DONE
)
queue_cards = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.booleans(), st.integers(min_value=0, max_value=50)),
    min_size=1,
    max_size=25,
)


def _queue(rows):
    return [
        fc.QueueCard(i, position, in_progress, rank) for i, (position, in_progress, rank) in enumerate(rows)
    ]


def _later_or_equal(a, b):
    """`a` is no earlier than `b` (None, beyond the horizon, is the latest)."""
    if b is None:
        return a is None
    return a is None or a >= b


@settings(max_examples=60, deadline=None)
@given(
    histories,
    st.floats(min_value=0.5, max_value=60),
    st.floats(min_value=0, max_value=40),
    st.integers(0, 99),
)
def test_more_work_ahead_is_never_earlier(days, work, more, seed):
    history = fc.History(tuple(days))
    knobs = fc.Settings(trials=200, seed=seed)
    less = fc.forecast_work(work, history, start=START, settings=knobs)
    most = fc.forecast_work(work + more, history, start=START, settings=knobs)
    assert less.ok or less.status == "beyond_horizon"
    assert _later_or_equal(most.p50, less.p50)
    assert _later_or_equal(most.p85, less.p85)


@settings(max_examples=60, deadline=None)
@given(histories, queue_cards)
def test_in_a_queue_no_card_is_forecast_before_one_ahead_of_it(days, rows):
    result = fc.forecast_queue(_queue(rows), fc.History(tuple(days)), start=START, settings=FAST)
    ordered = fc.queue_order(_queue(rows))
    for ahead, behind in zip(ordered, ordered[1:], strict=False):
        assert _later_or_equal(result[behind.card_id].p85, result[ahead.card_id].p85)
        assert _later_or_equal(result[behind.card_id].p50, result[ahead.card_id].p50)
        assert result[behind.card_id].cards_ahead == result[ahead.card_id].cards_ahead + 1


@settings(max_examples=60, deadline=None)
@given(histories, queue_cards, st.integers(min_value=0, max_value=50))
def test_a_card_in_progress_is_earlier_than_the_same_card_in_ready(days, rows, rank):
    """The same card, same rank, in an in-progress column (position 2) or in ready
    (position 1), the rest of the board unchanged: never later in progress."""
    history = fc.History(tuple(days))
    others = _queue(rows)
    me = len(others)
    in_ready = fc.forecast_queue(
        [*others, fc.QueueCard(me, 1, False, rank)], history, start=START, settings=FAST
    )
    started = fc.forecast_queue(
        [*others, fc.QueueCard(me, 2, True, rank)], history, start=START, settings=FAST
    )
    assert started[me].work <= in_ready[me].work
    assert started[me].cards_ahead <= in_ready[me].cards_ahead
    assert _later_or_equal(in_ready[me].p50, started[me].p50)
    assert _later_or_equal(in_ready[me].p85, started[me].p85)


def test_in_progress_is_strictly_earlier_where_the_throughput_says_so():
    """One card a day, every day: a card in ready behind three in progress is done on the
    fourth day (the three, then itself: whole cards, throughput counts departures), the
    same card in progress at the top of its column on the first."""
    history = fc.History((1,) * 28)
    others = [fc.QueueCard(i, 2, True, i) for i in range(3)]
    ready = fc.forecast_queue([*others, fc.QueueCard(9, 1, False, 0)], history, start=START, settings=FAST)
    started = fc.forecast_queue([*others, fc.QueueCard(9, 2, True, -1)], history, start=START, settings=FAST)
    assert ready[9].p50 == ready[9].p85 == START + timedelta(days=3)
    assert started[9].p50 == started[9].p85 == START


@settings(max_examples=30, deadline=None)
@given(histories, queue_cards, st.integers(0, 10_000))
def test_the_same_seed_gives_the_same_forecast(days, rows, seed):
    history = fc.History(tuple(days))
    knobs = fc.Settings(trials=100, seed=seed)
    first = fc.forecast_queue(_queue(rows), history, start=START, settings=knobs)
    again = fc.forecast_queue(list(reversed(_queue(rows))), history, start=START, settings=knobs)
    assert first == again


def test_another_seed_draws_other_futures():
    history = fc.History((0, 0, 3, 1, 0, 5, 0, 0, 2, 0, 0, 1, 4, 0) * 2)
    dates = {
        fc.forecast_work(40, history, start=START, settings=fc.Settings(trials=50, seed=s)).p85
        for s in range(8)
    }
    assert len(dates) > 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=70), st.floats(min_value=0.5, max_value=30))
def test_too_little_history_says_so_instead_of_guessing(days, work):
    history = fc.History(tuple(days))
    result = fc.forecast_work(work, history, start=START, settings=FAST)
    enough = sum(days) >= FAST.min_done and len(days) >= FAST.min_days
    assert (result.status != "insufficient_history") == enough
    if not enough:
        assert result.p50 is None and result.p85 is None and result.trials == 0


def test_p50_never_after_p85_and_a_known_rate():
    """Two cards a day, every day, 20 cards: done on the tenth day (index 9) in every trial."""
    history = fc.History((2,) * 30)
    result = fc.forecast_work(20, history, start=START, settings=FAST)
    assert result.p50 == result.p85 == START + timedelta(days=9)
    noisy = fc.forecast_work(20, fc.History((0, 4) * 15), start=START, settings=FAST)
    assert noisy.p50 <= noisy.p85


def test_work_beyond_the_horizon_has_no_date():
    history = fc.History((1,) + (0,) * 13)  # one card in two weeks
    knobs = fc.Settings(trials=50, min_done=1, horizon_days=60)
    result = fc.forecast_work(500, history, start=START, settings=knobs)
    assert result.status == "beyond_horizon" and result.p85 is None


def test_daily_counts_spread_done_dates_over_calendar_days():
    first = date(2026, 2, 1)
    history = fc.daily_counts(
        [date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 3), date(2026, 1, 31), date(2026, 2, 5)],
        first=first,
        last=date(2026, 2, 4),
    )
    assert history.daily_done == (2, 0, 1, 0) and history.done == 3 and history.days == 4


@settings(max_examples=30, deadline=None)
@given(histories, st.floats(min_value=1, max_value=30), st.floats(min_value=0, max_value=60))
def test_kept_curves_extended_for_more_work_give_what_a_fresh_run_gives(days, small, more):
    """boards.forecasting keeps the curves while the history is unchanged: reusing them (or
    simulating again when they fall short of the work) must give exactly a fresh run."""
    history = fc.History(tuple(days))
    kept = fc.percentile_curves(history, settings=FAST, top=small)
    reused = fc.percentile_curves(history, settings=FAST, top=small + more, cached=kept)
    fresh = fc.percentile_curves(history, settings=FAST, top=small + more)
    for work in (small, small + more / 2, small + more):
        assert reused.days(work) == fresh.days(work)
