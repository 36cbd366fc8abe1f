"""The card page's incidents (linked and caused) and the release pages: list, contents,
planning a release and marking it deployed (with the back-sync to support)."""
# The escalation journey's fixtures are imported by name, so tests take them as arguments.
# ruff: noqa: F811

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone

from boards.forecasting import board_forecasts_refresh
from boards.models import Card, ColumnCategory, Release
from boards.services import card_link_incident, card_move, release_create
from escalation.models import Escalation, Outcome
from escalation.services import incident_escalate_to_development
from incidents.models import Status
from incidents.services import incident_link_cause

# The escalation journey's fixtures: a desk team, a dev team with its board, a service.
from tests.escalation.conftest import board, desk_team, dev_team, log_incident, service  # noqa: F401
from tests.sla.factories import CalendarFactory, PolicyFactory

from .factories import BoardFactory, CardFactory, ReleaseFactory, column_of

pytestmark = pytest.mark.django_db


def shown_in(zone, instant):
    """How a page shows an instant to a viewer in `zone`: with the zone's abbreviation."""
    return dateformat.format(timezone.localtime(instant, ZoneInfo(zone)), "j M Y H:i T")


def escalated(log_incident, engineer_user, **kwargs):
    incident = log_incident(**kwargs)
    result = incident_escalate_to_development(incident=incident, actor=engineer_user)
    incident.refresh_from_db()
    return incident, result.card


def section(html, element_id):
    match = re.search(rf'<section class="card" id="{element_id}">(.*?)</section>', html, re.S)
    assert match, f"no section #{element_id}"
    return match.group(1)


# ------------------------------------------------------------------ the card page
def test_card_page_links_each_incident_with_labels_owner_and_sla_in_viewer_zone(
    client,
    log_incident,
    engineer_user,
    developer_user,
    board,
):
    developer_user.time_zone = "America/New_York"
    developer_user.save(update_fields=["time_zone"])
    PolicyFactory(priority="P2", calendar=CalendarFactory(always_open=True, hours={}, timezone="UTC"))
    incident, card = escalated(log_incident, engineer_user, title="Card payments fail")
    assert incident.status == Status.ON_HOLD and incident.sla_due_at is not None
    client.force_login(developer_user)

    html = client.get(reverse("boards:card", args=[card.pk])).content.decode()

    linked = section(html, "linked-incidents")
    assert f'href="{reverse("incidents:detail", args=[incident.key])}"' in linked
    assert incident.key in linked and "Card payments fail" in linked
    assert ">On hold<" in linked and ">on_hold<" not in linked
    assert "Awaiting development" in linked
    assert incident.get_priority_display() in linked
    assert incident.team.name in linked
    owner = incident.assignee.display_name if incident.assignee_id else "Unassigned"
    assert owner in linked
    due = shown_in("America/New_York", incident.sla_due_at)
    assert due.endswith(("EST", "EDT")) and due in linked


def test_card_page_shows_the_incidents_it_caused(
    client,
    log_incident,
    engineer_user,
    developer_user,
    board,
):
    card = CardFactory(board=board, title="Refactor the payment gateway")
    caused = log_incident(title="Refunds double-charged")
    incident_link_cause(incident=caused, card=card, actor=engineer_user)
    other = log_incident(title="Unrelated outage")
    client.force_login(developer_user)

    html = client.get(reverse("boards:card", args=[card.pk])).content.decode()

    assert "Incidents caused by this card" in html
    caused_html = section(html, "caused-incidents")
    assert f'href="{reverse("incidents:detail", args=[caused.key])}"' in caused_html
    assert "Refunds double-charged" in caused_html and ">New<" in caused_html
    assert other.key not in html
    assert "No incident is linked to this card." in section(html, "linked-incidents")


def test_card_page_query_count_does_not_grow_with_incidents(
    client,
    log_incident,
    engineer_user,
    developer_user,
    board,
):
    small, large = CardFactory(board=board), CardFactory(board=board)
    for card, n in ((small, 1), (large, 6)):
        for i in range(n):
            card_link_incident(card=card, incident=log_incident(title=f"linked {i}"), actor=engineer_user)
            incident_link_cause(incident=log_incident(title=f"cause-no-{i}"), card=card, actor=engineer_user)
    client.force_login(developer_user)
    # The board's fix-forecast curves are computed once on the first read of the day and kept
    # (BoardForecastRun): warm them, so the counts compare the pages and not that one-off.
    board_forecasts_refresh(board.pk)
    counts = []
    for card in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("boards:card", args=[card.pk]))
        assert response.status_code == 200
        counts.append(len(ctx))
    assert response.content.decode().count("cause-no-") == 6
    assert counts[0] == counts[1], counts


# ------------------------------------------------------------------ the release list
def test_release_list_shows_board_dates_count_and_state(client, desk_user):
    desk_user.time_zone = "Asia/Tokyo"
    desk_user.save(update_fields=["time_zone"])
    checkout = BoardFactory(name="Checkout")
    deployed_at = timezone.now() - timedelta(days=2)
    shipped = ReleaseFactory(
        board=checkout, name="2026.11", planned_for=date(2026, 11, 18), deployed_at=deployed_at
    )
    CardFactory.create_batch(3, board=checkout, release=shipped)
    late = ReleaseFactory(
        board=checkout, name="2026.10", planned_for=timezone.localdate() - timedelta(days=1)
    )
    ReleaseFactory(board=BoardFactory(name="Mobile"), name="Mobile-1", planned_for=None)
    client.force_login(desk_user)

    html = client.get(reverse("boards:releases")).content.decode()

    row = re.search(r"<tr>\s*<td><a[^>]*><strong>2026\.11</strong>.*?</tr>", html, re.S).group(0)
    assert "Checkout" in row and "18 Nov 2026" in row and "<td>3</td>" in row and "Deployed" in row
    assert shown_in("Asia/Tokyo", deployed_at) in row and "JST" in row
    assert "Planned date passed" in html and "Not scheduled" in html and "Mobile" in html
    assert f'href="{reverse("boards:release", args=[late.pk])}"' in html
    # one board's releases
    only = client.get(reverse("boards:releases"), {"board": checkout.pk}).content.decode()
    assert "2026.11" in only and "Mobile-1" not in only
    # the service desk reads releases but does not plan them
    assert "Plan a release" not in html


def test_release_list_query_count_does_not_grow_with_releases(client, developer_user):
    def seed(n):
        for _ in range(n):
            release = ReleaseFactory(board=BoardFactory())
            CardFactory.create_batch(2, board=release.board, release=release)

    client.force_login(developer_user)
    seed(2)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("boards:releases")).status_code == 200
    before = len(ctx)
    seed(10)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("boards:releases"))
    assert len(re.findall(r'<td><a href="/boards/releases/\d+/">', response.content.decode())) == 12
    assert len(ctx) == before, (before, len(ctx))


def test_board_page_and_nav_link_to_releases(client, developer_user):
    checkout = BoardFactory()
    client.force_login(developer_user)
    html = client.get(reverse("boards:detail", args=[checkout.pk])).content.decode()
    assert f'href="{reverse("boards:releases")}?board={checkout.pk}"' in html
    assert f'<a href="{reverse("boards:releases")}">Releases</a>' in html


def test_planning_a_release_from_the_page_keeps_input_on_error(client, developer_user):
    checkout = BoardFactory(name="Checkout")
    release_create(board=checkout, name="2026.12", actor=None)
    client.force_login(developer_user)
    url = reverse("boards:releases") + f"?board={checkout.pk}"
    form = client.get(url).content.decode()
    assert "Plan a release" in form and f'<option value="{checkout.pk}" selected>' in form

    taken = client.post(url, {"board": checkout.pk, "name": "2026.12", "planned_for": "2027-01-15"})
    assert taken.status_code == 400
    html = taken.content.decode()
    assert "already has a release with that name" in html and 'value="2027-01-15"' in html
    assert Release.objects.filter(board=checkout).count() == 1

    created = client.post(url, {"board": checkout.pk, "name": "2027.01", "planned_for": "2027-01-15"})
    release = Release.objects.get(board=checkout, name="2027.01")
    assert created.status_code == 302 and created["Location"] == reverse("boards:release", args=[release.pk])
    assert release.planned_for == date(2027, 1, 15)


def test_only_release_managers_plan_or_deploy(client, desk_user):
    release = ReleaseFactory()
    client.force_login(desk_user)
    assert (
        client.post(reverse("boards:releases"), {"board": release.board_id, "name": "X"}).status_code == 403
    )
    assert "Mark deployed" not in client.get(reverse("boards:release", args=[release.pk])).content.decode()
    assert client.get(reverse("boards:release_deploy", args=[release.pk])).status_code == 403
    assert client.post(reverse("boards:release_deploy", args=[release.pk])).status_code == 403
    release.refresh_from_db()
    assert release.deployed_at is None and not Release.objects.filter(name="X").exists()


# ------------------------------------------------------------------ a release's page and its deployment
def test_release_page_shows_cards_their_incidents_and_the_incidents_it_caused(
    client,
    log_incident,
    engineer_user,
    developer_user,
    desk_user,
    board,
):
    release = release_create(board=board, name="2026.12", planned_for=date(2026, 12, 14), actor=None)
    incident, card = escalated(log_incident, engineer_user, title="Card payments fail")
    Card.objects.filter(pk=card.pk).update(release=release)
    done = CardFactory(
        board=board, release=release, column=column_of(board, ColumnCategory.DONE), title="Shipped"
    )
    caused = log_incident(title="Checkout slow after 2026.12")
    incident_link_cause(incident=caused, release=release, actor=engineer_user)
    client.force_login(desk_user)

    html = client.get(reverse("boards:release", args=[release.pk])).content.decode()

    cards = section(html, "release-cards")
    assert card.key in cards and done.key in cards and ">Done<" in cards and ">Ready<" in cards
    linked = section(html, "linked-incidents")
    assert f'href="{reverse("incidents:detail", args=[incident.key])}"' in linked
    assert f'href="{reverse("boards:card", args=[card.pk])}">{card.key}</a>' in linked
    assert ">On hold<" in linked
    assert caused.key in section(html, "caused-incidents") and caused.key not in linked
    assert "14 Dec 2026" in html and "Not yet" in html


def test_release_detail_query_count_does_not_grow_with_cards_and_incidents(
    client,
    log_incident,
    engineer_user,
    developer_user,
    board,
):
    small = release_create(board=board, name="small", actor=None)
    large = release_create(board=board, name="large", actor=None)
    for release, n in ((small, 1), (large, 5)):
        for i in range(n):
            card = CardFactory(board=board, release=release, assignee=developer_user)
            card_link_incident(card=card, incident=log_incident(title=f"linked {i}"), actor=engineer_user)
            incident_link_cause(
                incident=log_incident(title=f"caused {i}"), release=release, actor=engineer_user
            )
    client.force_login(developer_user)
    counts = {}
    for release in (small, large):
        for name in ("boards:release", "boards:release_deploy"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse(name, args=[release.pk])).status_code == 200
            counts.setdefault(name, []).append(len(ctx))
    assert all(a == b for a, b in counts.values()), counts


def test_marking_deployed_returns_incidents_to_support_and_a_second_time_is_refused(
    client,
    log_incident,
    engineer_user,
    developer_user,
    board,
    desk_team,
):
    developer_user.time_zone = "Europe/Berlin"
    developer_user.save(update_fields=["time_zone"])
    release = release_create(board=board, name="2026.12", actor=None)
    incident, card = escalated(log_incident, engineer_user)
    Card.objects.filter(pk=card.pk).update(release=release)
    client.force_login(developer_user)

    page = client.get(reverse("boards:release", args=[release.pk])).content.decode()
    assert f'href="{reverse("boards:release_deploy", args=[release.pk])}"' in page
    confirm = client.get(reverse("boards:release_deploy", args=[release.pk])).content.decode()
    assert "1 open incident linked to its cards goes back" in confirm
    assert f"{card.key}</a> (Ready)" in confirm  # not done yet: said before confirming
    release.refresh_from_db()
    assert release.deployed_at is None  # looking at the confirmation changes nothing

    response = client.post(reverse("boards:release_deploy", args=[release.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "boards:release", args=[release.pk]
    )
    release.refresh_from_db()
    incident.refresh_from_db()
    assert release.deployed_at is not None
    assert incident.status == Status.IN_PROGRESS and incident.team == desk_team
    assert Escalation.objects.get(incident=incident).outcome == Outcome.DEPLOYED
    after = client.get(response["Location"]).content.decode()
    assert "is marked deployed" in after
    assert shown_in("Europe/Berlin", release.deployed_at) in after and "CET" in after
    assert "Mark deployed…" not in after
    assert ">In progress<" in section(after, "linked-incidents") and desk_team.name in after

    # the second visit: a stale tab posts again
    again = client.post(reverse("boards:release_deploy", args=[release.pk]))
    assert again.status_code == 409
    html = again.content.decode()
    assert "2026.12 was already deployed." in html and shown_in("Europe/Berlin", release.deployed_at) in html
    first = release.deployed_at
    release.refresh_from_db()
    assert release.deployed_at == first
    assert Escalation.objects.filter(outcome=Outcome.DEPLOYED).count() == 1
    # and the confirmation page, reopened, sends back to the release
    reopened = client.get(reverse("boards:release_deploy", args=[release.pk]))
    assert reopened.status_code == 302


def test_card_done_before_deploy_is_shown_done_and_not_returned_twice(
    client,
    log_incident,
    engineer_user,
    developer_user,
    board,
):
    release = release_create(board=board, name="2026.12", actor=None)
    incident, card = escalated(log_incident, engineer_user)
    Card.objects.filter(pk=card.pk).update(release=release)
    card.refresh_from_db()
    card_move(card=card, column=column_of(board, ColumnCategory.DONE), actor=developer_user)
    client.force_login(developer_user)
    assert client.post(reverse("boards:release_deploy", args=[release.pk])).status_code == 302
    assert Escalation.objects.get(incident=incident).outcome == Outcome.DONE
    html = client.get(reverse("boards:release", args=[release.pk])).content.decode()
    assert ">Done<" in section(html, "release-cards")


def test_release_edit_form_reopens_with_its_date_and_resaves_it(client, developer_user, desk_user):
    checkout = BoardFactory(name="Checkout")
    release = release_create(board=checkout, name="2026.12", planned_for=date(2026, 12, 14), actor=None)
    release_create(board=checkout, name="2027.01", actor=None)
    url = reverse("boards:release", args=[release.pk])
    client.force_login(developer_user)

    form = section(client.get(url).content.decode(), "release-edit")
    assert 'value="2026-12-14"' in form and 'value="2026.12"' in form
    # re-saved as reopened: the date survives
    assert client.post(url, {"name": "2026.12", "planned_for": "2026-12-14"}).status_code == 302
    release.refresh_from_db()
    assert release.planned_for == date(2026, 12, 14)
    # a second visit moves the date
    assert 'value="2026-12-14"' in client.get(url).content.decode()
    assert client.post(url, {"name": "2026.12b", "planned_for": "2026-12-21"}).status_code == 302
    release.refresh_from_db()
    assert (release.name, release.planned_for) == ("2026.12b", date(2026, 12, 21))
    # a name taken on the board: 400, the error next to the field, what was typed kept
    taken = client.post(url, {"name": "2027.01", "planned_for": "2027-01-04"})
    assert taken.status_code == 400
    html = section(taken.content.decode(), "release-edit")
    assert "already has a release with that name" in html and 'value="2027-01-04"' in html
    release.refresh_from_db()
    assert (release.name, release.planned_for) == ("2026.12b", date(2026, 12, 21))
    # the service desk reads the release but cannot edit it
    client.force_login(desk_user)
    assert 'id="release-edit"' not in client.get(url).content.decode()
    assert client.post(url, {"name": "x"}).status_code == 403


@pytest.mark.parametrize(
    "role, may_manage",
    [
        ("service_desk", False),
        ("support_engineer", False),
        ("developer", True),
        ("product_owner", True),
        ("manager", True),
    ],
)
def test_release_pages_role_matrix(client, make_user, role, may_manage):
    """Every role reads releases; can_manage_releases decides planning, editing and deploying."""
    release = ReleaseFactory(name="R-matrix")
    client.force_login(make_user(role))
    assert client.get(reverse("boards:releases")).status_code == 200
    assert client.get(reverse("boards:release", args=[release.pk])).status_code == 200
    expected = (302,) if may_manage else (403,)
    created = client.post(reverse("boards:releases"), {"board": release.board_id, "name": f"new-{role}"})
    assert created.status_code in expected
    edited = client.post(
        reverse("boards:release", args=[release.pk]), {"name": "R-matrix", "planned_for": ""}
    )
    assert edited.status_code in expected
    deployed = client.post(reverse("boards:release_deploy", args=[release.pk]))
    assert deployed.status_code in expected
    release.refresh_from_db()
    assert (release.deployed_at is not None) == may_manage
    assert Release.objects.filter(name=f"new-{role}").exists() == may_manage
