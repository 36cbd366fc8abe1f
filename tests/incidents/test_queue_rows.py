"""The queue page writes its rows' instants and SLA badges without a template filter or an
include per row (issue 19); what it writes is what the date filter and
incidents/_sla_badge.html write."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from incidents.hooks import QueueClock, clock_reads
from incidents.views import _queue_badge
from sla.models import SLATimer, TimerState
from tracker.paging import CappedPaginator
from tracker.timefmt import PageInstants

INSTANTS = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # the hour before and after Europe's spring change
    datetime(2026, 3, 29, 1, 1, tzinfo=UTC),
    datetime(2026, 10, 4, 15, 30, tzinfo=UTC),  # Lord Howe: +10:30 / +11
    datetime(2026, 12, 2, 23, 5, 7, 120, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@pytest.mark.parametrize("zone", ZONES)
def test_the_page_instants_are_what_the_date_filter_writes(zone):
    template = Template(
        "{{ v|date:'c' }}|{{ v|date:'j M H:i' }}|{{ v|date:'j M H:i T' }}|{{ v|date:'j M Y H:i T' }}"
        "|{{ v|date:'D j M H:i T' }}"
    )
    with timezone.override(zone):
        instants = PageInstants()
        for value in INSTANTS:
            got = instants(value)
            assert got is not None
            expected = template.render(Context({"v": value}))
            assert "|".join([got.iso, got.brief, got.short, got.full, got.day]) == expected, value
        assert instants(None) is None


def _timer(state, *, due=True, policy=True, active=True):
    due_at = datetime(2026, 12, 3, 9, 30, tzinfo=UTC) if due else None
    return SLATimer(
        metric="resolution",
        state=state,
        due_at=due_at,
        policy_id=7 if policy else None,
        is_active=active,
        started_at=due_at or datetime(2026, 12, 1, tzinfo=UTC),
    )


CASES = [
    (_timer(TimerState.RUNNING), "running"),
    (_timer(TimerState.RUNNING), "at_risk"),
    (_timer(TimerState.BREACHED), "breached"),
    (_timer(TimerState.PAUSED), "paused"),
    (_timer(TimerState.MET, active=False), "met"),
    (_timer(TimerState.RUNNING, due=False, policy=False), "running"),
    (_timer(TimerState.RUNNING, due=False), "running"),
    (SimpleNamespace(**{**vars(_timer(TimerState.RUNNING, due=False)), "state": "cancelled"}), "cancelled"),
]


@pytest.mark.parametrize(("timer", "state"), CASES)
def test_the_queue_badge_is_the_sla_badge_include(timer, state):
    if isinstance(timer, SimpleNamespace):
        timer.get_metric_display = lambda: "Resolution"
    row_badge = Template(
        '{% with b=badge %}{% if b %}<span class="sla sla-{{ b.state }}" title="{{ b.title }}'
        '{% if b.due %}, due {{ b.due.day }}{% endif %}">{{ b.metric }} ·\n{% if b.text %}{{ b.text }}'
        '{% else %}<time datetime="{{ b.due.iso }}" data-countdown>{{ b.due.short }}</time>{% endif %}'
        '</span>{% else %}<span class="muted">—</span>{% endif %}{% endwith %}'
    )
    with timezone.override("Europe/Berlin"):
        expected = render_to_string("incidents/_sla_badge.html", {"timer": timer, "state": state})
        clock = QueueClock(
            metric=timer.metric,
            metric_label=timer.get_metric_display(),
            state=state,
            due_at=timer.due_at,
            has_policy=timer.policy_id is not None,
        )
        got = row_badge.render(Context({"badge": _queue_badge(clock, PageInstants())}))
    assert got.strip() == expected.strip()


def test_the_queue_template_writes_the_badge_the_test_compares():
    """The template above is the queue's own (so the comparison is of what the page writes)."""
    with open("templates/incidents/_queue_results.html", encoding="utf-8") as f:
        text = f.read()
    assert (
        '<span class="sla sla-{{ b.state }}" title="{{ b.title }}{% if b.due %}, due {{ b.due.day }}' in text
    )
    assert '<time datetime="{{ b.due.iso }}" data-countdown>{{ b.due.short }}</time>' in text


@pytest.mark.django_db
def test_the_queue_counts_at_most_a_cap_beyond_the_page(client, org, log_incident, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "CAP", 3)
    for n in range(7):
        log_incident(title=f"Row {n}")
    monkeypatch.setattr("incidents.views.PAGE_SIZE", 2)
    client.force_login(org.desk)
    page = client.get(reverse("incidents:queue") + "?tab=all").content.decode()
    # page 1 of 2 rows + 3 beyond = 5 counted of 7: "5+ incidents", and more pages after
    assert "5+ incidents" in page and "page 1 of 3+" in page
    last = client.get(reverse("incidents:queue") + "?tab=all&page=3").content.decode()
    # asking for page 3 counts up to 6 + 3: all 7 counted, exact
    assert "7 incidents" in last and "page 3 of 4" in last and "+" not in last.split("incidents")[0][-6:]
    monkeypatch.setattr(CappedPaginator, "CAP", 1000)
    exact = client.get(reverse("incidents:queue") + "?tab=all").content.decode()
    assert "7 incidents" in exact and "page 1 of 4" in exact


def test_a_capped_count_of_a_list():
    class Small(CappedPaginator):
        CAP = 3

    capped = Small(list(range(10)), 2, wanted_page=1)
    assert (capped.count, capped.shown_count, capped.capped, capped.num_pages) == (6, 5, True, 3)
    exact = Small(list(range(10)), 2, wanted_page="4")
    assert (exact.count, exact.shown_count, exact.capped, exact.num_pages) == (10, 10, False, 5)
    nonsense = Small(list(range(10)), 2, wanted_page="x")
    assert nonsense.limit == 2 + 3


@pytest.mark.django_db
def test_each_row_shows_its_earliest_due_active_clock_else_its_last(org, log_incident):
    """ClockReads.queue_clocks: the clock a queue row's badge shows, read as values."""
    now = timezone.now()
    hour = timezone.timedelta(hours=1)
    run, met = ("running", True), ("met", False)
    cases = {
        # {metric: (state, active, due, warn)}, then the expected headline (metric, state)
        "earliest due active": (
            {"response": (*run, now + 2 * hour, None), "resolution": (*run, now + hour, None)},
            ("resolution", "running"),
        ),
        "stopped ones skipped": (
            {"response": (*met, now - hour, None), "resolution": ("paused", True, now + 9 * hour, None)},
            ("resolution", "paused"),
        ),
        "none active: the last": (
            {"resolution": (*met, now, None), "response": (*met, now, None)},
            ("response", "met"),
        ),
        "past its warning": ({"response": (*run, now + hour, now - hour)}, ("response", "at_risk")),
    }
    ids = {}
    for name, (timers, _) in cases.items():
        incident = log_incident(title=name)
        SLATimer.objects.filter(incident=incident).delete()
        for metric, (state, active, due, warn) in timers.items():
            SLATimer.objects.create(
                incident=incident, metric=metric, state=state, is_active=active, due_at=due, warn_at=warn,
                started_at=now - hour,
            )  # fmt: skip
        ids[name] = incident.pk
    bare = log_incident(title="no clock")
    SLATimer.objects.filter(incident=bare).delete()
    clocks = clock_reads().queue_clocks([*ids.values(), bare.pk], now=now)
    for name, (_, (metric, state)) in cases.items():
        clock = clocks[ids[name]]
        assert (clock.metric, clock.state) == (metric, state), name
        assert clock.metric_label == metric.capitalize()
    assert bare.pk not in clocks


@pytest.mark.django_db
def test_the_queue_opens_no_server_side_cursor_for_its_choices(client, org, log_incident):
    """The filter bar's and bulk bar's team, service and customer choices come from small
    tables read in one plain query each (tracker.querysets.SmallTableQuerySet), not through
    a server-side cursor (DECLARE, FETCH, CLOSE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from org.models import Customer, Service, Team

    log_incident(title="One row")
    client.force_login(org.desk)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("incidents:queue") + "?tab=all").content.decode()
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DECLARE")]
    assert 'name="team"' in html and 'name="service"' in html and 'name="customer"' in html
    for model in (Team, Service, Customer):
        assert list(model.objects.order_by("pk").iterator()) == list(model.objects.order_by("pk"))
