"""The Django admin writes through the services (tracker.admin.ServiceModelAdmin): the same
rules, locks and side effects as the browser and the API; fields no service changes are
read-only there. Each test submits the admin's own form as a browser would (every field it
renders, with the values it renders), changed where the test says."""

from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from boards.models import ColumnCategory, Release
from sprints.models import Sprint, SprintState
from sprints.services import sprint_create
from tests.boards.factories import BoardFactory, column_of
from tests.factories import DevTeamFactory, UserFactory
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The values a browser would submit for the admin's change form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None
        self._selected_any = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_of(client, url) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    parser = _FormFields()
    parser.feed(page.content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    parser.data.pop("_popup", None)
    return parser.data


def submit(client, url, data):
    return client.post(url, data)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# ------------------------------------------------------------------ boards
def test_board_admin_renames_through_the_service(admin_client):
    BoardFactory(name="Alpha")
    board = BoardFactory(name="Beta")
    url = f"/admin/boards/board/{board.pk}/change/"
    data = form_of(admin_client, url)
    data["name"] = ["alpha"]  # board_update: names are unique whatever their case
    refused = submit(admin_client, url, data)
    assert refused.status_code == 200
    assert "A board with this name already exists." in refused.content.decode()
    board.refresh_from_db()
    assert board.name == "Beta"

    data["name"] = ["  Gamma  "]
    assert submit(admin_client, url, data).status_code == 302
    board.refresh_from_db()
    assert board.name == "Gamma"  # stripped by the service
    # the second visit: the form reopens with the saved value and saves again
    again = form_of(admin_client, url)
    assert again["name"] == ["Gamma"]
    assert submit(admin_client, url, again).status_code == 302


def test_board_admin_shows_columns_and_lanes_read_only(admin_client):
    board = BoardFactory(name="Board")
    doing = column_of(board, ColumnCategory.IN_PROGRESS)
    url = f"/admin/boards/board/{board.pk}/change/"
    data = form_of(admin_client, url)
    assert not any(k.startswith("columns-") and k.endswith(("wip_max", "category")) for k in data)
    # a hand-made POST with the old inline fields changes nothing either
    data.update({"columns-0-id": [str(doing.pk)], "columns-0-wip_max": ["1"], "columns-0-category": ["done"]})
    submit(admin_client, url, data)
    doing.refresh_from_db()
    assert doing.wip_max is None and doing.category == ColumnCategory.IN_PROGRESS
    assert admin_client.get("/admin/boards/board/add/").status_code == 403


def test_release_admin_deploys_through_the_service(admin_client):
    board = BoardFactory(name="Board")
    created = admin_client.post(
        "/admin/boards/release/add/", {"board": board.pk, "name": "  R1  ", "planned_for": ""}
    )
    assert created.status_code == 302
    release = Release.objects.get(board=board)
    assert release.name == "R1"  # release_create strips the name
    # deployment is not a field to type into: the change form refuses writes
    change = f"/admin/boards/release/{release.pk}/change/"
    admin_client.post(change, {"board": board.pk, "name": "R1", "deployed_at_0": "2026-01-01"})
    release.refresh_from_db()
    assert release.deployed_at is None
    # the action calls release_mark_deployed (which runs the back-sync), once
    action = {"action": "mark_deployed", "_selected_action": [release.pk]}
    first = admin_client.post("/admin/boards/release/", action, follow=True)
    release.refresh_from_db()
    assert release.deployed_at is not None
    assert "R1 deployed." in first.content.decode()
    second = admin_client.post("/admin/boards/release/", action, follow=True)
    assert "R1 was already deployed." in second.content.decode()


# ------------------------------------------------------------------ sprints
def test_sprint_admin_creates_and_edits_through_the_service(admin_client):
    dev = UserFactory(username="dev1")
    team = DevTeamFactory(name="Dev", members=[dev])
    add = "/admin/sprints/sprint/add/"
    data = form_of(admin_client, add)
    data.update(team=[str(team.pk)], name=["Sprint 1"], start=["2026-12-07"], end=["2026-12-18"])
    created = submit(admin_client, add, data)
    assert created.status_code == 302, created.content.decode()[:2000]
    sprint = Sprint.objects.get(team=team)
    assert list(sprint.members.values_list("user__username", flat=True)) == ["dev1"]  # sprint_create

    Sprint.objects.filter(pk=sprint.pk).update(state=SprintState.ACTIVE)  # started
    url = f"/admin/sprints/sprint/{sprint.pk}/change/"
    data = form_of(admin_client, url)
    data["start"] = ["2026-12-08"]
    refused = submit(admin_client, url, data)
    assert refused.status_code == 200
    assert "Fixed once the sprint has started." in refused.content.decode()
    sprint.refresh_from_db()
    assert sprint.start == date(2026, 12, 7) and sprint.state == SprintState.ACTIVE

    data["start"] = ["2026-12-07"]
    data["goal"] = ["Ship it"]
    assert submit(admin_client, url, data).status_code == 302
    sprint.refresh_from_db()
    assert sprint.goal == "Ship it"


def test_closed_sprint_is_read_only_in_the_admin(admin_client):
    team = DevTeamFactory(name="Dev")
    start = timezone.localdate() - timedelta(days=20)
    sprint = sprint_create(team=team, name="Old", actor=None, start=start, end=start + timedelta(days=9))
    Sprint.objects.filter(pk=sprint.pk).update(state=SprintState.CLOSED)
    data = form_of(admin_client, f"/admin/sprints/sprint/{sprint.pk}/change/")
    assert "name" not in data and "start" not in data


# ------------------------------------------------------------------ webhooks
def test_webhook_admin_checks_events_and_reactivates_through_the_service(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    sub = Subscription.objects.create(
        url="http://127.0.0.1:9/hook",
        active=False,
        consecutive_failures=7,
        disabled_reason="Too many failures",
    )
    url = f"/admin/webhooks/subscription/{sub.pk}/change/"
    data = form_of(admin_client, url)
    data["events"] = ['["incident.nope"]']
    refused = submit(admin_client, url, data)
    assert refused.status_code == 200 and "Unknown events: incident.nope" in refused.content.decode()
    data["events"] = ['["incident.created"]']
    data["active"] = ["on"]
    assert submit(admin_client, url, data).status_code == 302
    sub.refresh_from_db()
    assert sub.active and sub.events == ["incident.created"]
    assert sub.consecutive_failures == 0 and sub.disabled_reason == ""  # subscription_update's rule


# ------------------------------------------------------------------ mail
def test_mailbox_admin_saves_through_the_mail_service(admin_client):
    from mail.models import Mailbox
    from tests.factories import ServiceFactory

    service = ServiceFactory(name="Payments")
    Mailbox.objects.create(name="Support", address="support@tandem.example", default_service=service)
    add = "/admin/mail/mailbox/add/"
    data = form_of(admin_client, add)
    data.update(name=["Billing"], address=["Support@Tandem.example"], default_service=[str(service.pk)])
    refused = submit(admin_client, add, data)
    assert refused.status_code == 200 and "Another mailbox has this address." in refused.content.decode()
    data["address"] = ["Billing@Tandem.Example"]
    assert submit(admin_client, add, data).status_code == 302
    assert Mailbox.objects.get(name="Billing").address == "billing@tandem.example"  # normalised


def test_sprint_admin_start_asks_to_accept_the_risks_first(admin_client):
    team = DevTeamFactory(name="Dev")
    start = timezone.localdate() + timedelta(days=10)  # starting now is early
    sprint = sprint_create(team=team, name="Next", actor=None, start=start, end=start + timedelta(days=9))
    action = {"action": "start_sprints", "_selected_action": [sprint.pk]}
    first = admin_client.post("/admin/sprints/sprint/", action, follow=True).content.decode()
    sprint.refresh_from_db()
    assert sprint.state == SprintState.PLANNING
    assert "days early" in first and "accepting the risks shown" in first
    action["action"] = "start_sprints_confirmed"
    admin_client.post("/admin/sprints/sprint/", action, follow=True)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE
