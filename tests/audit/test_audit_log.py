"""The audit module: snapshots and diffs, one row per change, the API and the page."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import REDACTED, audit_created, audit_deleted, audit_diff, audit_snapshot, audit_updated
from org.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    return Team.objects.create(name="Payments", tier=3, is_development=True)


def test_snapshot_and_diff_record_old_and_new(team, manager_user):
    before = audit_snapshot(team)
    team.name = "Payments core"
    team.support_allocation_percent = 30
    team.save()
    entry = audit_updated(actor=manager_user, instance=team, before=before)
    assert entry.action == "updated"
    assert entry.actor == manager_user
    assert entry.model == "org.team"
    assert entry.object_id == str(team.pk)
    assert entry.changes["name"] == ["Payments", "Payments core"]
    assert entry.changes["support_allocation_percent"][1] == 30
    assert set(entry.changes) == {"name", "support_allocation_percent"}


def test_no_row_when_nothing_changed(team, manager_user):
    before = audit_snapshot(team)
    team.save()
    assert audit_updated(actor=manager_user, instance=team, before=before) is None
    assert AuditEntry.objects.count() == 0


def test_many_to_many_are_ids(team, manager_user, make_user):
    member = make_user()
    before = audit_snapshot(team, ["members"])
    team.members.add(member)
    entry = audit_updated(actor=manager_user, instance=team, before=before)
    assert entry.changes == {"members": [[], [member.pk]]}


def test_created_and_deleted_rows(team, manager_user):
    created = audit_created(actor=manager_user, instance=team)
    assert created.changes["name"] == [None, "Payments"]
    pk = team.pk
    deleted = audit_deleted(actor=None, instance=team)
    team.delete()
    assert deleted.object_id == str(pk)
    assert deleted.actor is None
    assert deleted.changes["name"] == ["Payments", None]


def test_secrets_are_never_written():
    assert audit_diff({"secret": "aaaa"}, {"secret": "bbbb"}) == {"secret": [REDACTED, REDACTED]}


def test_values_are_plain_json():
    changes = audit_diff({"estimate": None}, {"estimate": Decimal("5.00")})
    assert changes == {"estimate": [None, "5"]}


def test_row_rolls_back_with_the_change(team, manager_user):
    with pytest.raises(RuntimeError), transaction.atomic():
        before = audit_snapshot(team)
        team.name = "Renamed"
        team.save()
        audit_updated(actor=manager_user, instance=team, before=before)
        raise RuntimeError("the service failed after writing")
    assert AuditEntry.objects.count() == 0


# ------------------------------------------------------------------ API
def _entries(n, actor, model="sla.policy"):
    now = timezone.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now - timedelta(minutes=i),
            actor=actor,
            model=model,
            object_id=str(i % 3),
            object_repr=f"thing {i}",
            action="updated",
            changes={"name": [f"a{i}", f"b{i}"]},
        )
        for i in range(n)
    )


def test_api_is_for_managers(api, manager_user, desk_user, po_user, developer_user):
    _entries(2, manager_user)
    url = reverse("api-audit-log")
    for user in (desk_user, po_user, developer_user):
        assert api.as_user(user).get(url).status_code == 403
    api.credentials()
    assert api.get(url).status_code in (401, 403)
    response = api.as_user(manager_user).get(url)
    assert response.status_code == 200
    row = response.json()["results"][0]
    assert set(row) >= {"at", "actor", "model", "object_id", "action", "changes"}
    assert row["actor"] == manager_user.pk
    assert row["changes"] == {"name": ["a0", "b0"]}
    assert row["at"].endswith("Z") or "+" in row["at"]


def test_api_filters(api, manager_user, admin_user):
    _entries(6, manager_user)
    _entries(2, admin_user, model="boards.column")
    client = api.as_user(manager_user)
    url = reverse("api-audit-log")
    assert len(client.get(url, {"model": "boards.column"}).json()["results"]) == 2
    assert len(client.get(url, {"model": "sla.policy", "object_id": "1"}).json()["results"]) == 2
    assert len(client.get(url, {"actor": admin_user.pk}).json()["results"]) == 2
    assert client.get(url, {"actor": "x"}).status_code == 400
    assert client.get(url, {"since": "not a time"}).status_code == 400


def test_api_pages_by_cursor_and_query_count_is_fixed(api, manager_user):
    client = api.as_user(manager_user)
    url = reverse("api-audit-log")
    _entries(5, manager_user)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _entries(60, manager_user)
    with CaptureQueriesContext(connection) as many:
        first = client.get(url, {"page_size": 40}).json()
    assert len(many) == len(few)
    second = client.get(first["next"]).json()
    seen = {r["id"] for r in first["results"]} | {r["id"] for r in second["results"]}
    assert len(seen) == 65


# ------------------------------------------------------------------ page and CSV
def test_page_lists_filters_and_exports(client, manager_user, desk_user):
    _entries(3, manager_user)
    _entries(1, manager_user, model="boards.lane")
    client.force_login(desk_user)
    assert client.get(reverse("audit:log")).status_code == 403
    client.force_login(manager_user)
    html = client.get(reverse("audit:log")).content.decode()
    assert "sla.policy" in html and "boards.lane" in html
    assert "a0" in html and "b0" in html
    narrowed = client.get(reverse("audit:log"), {"model": "boards.lane"}).content.decode()
    assert "boards.lane" in narrowed and "thing 1" not in narrowed
    response = client.get(reverse("audit:log"), {"model": "sla.policy", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When", "Who", "What"]
    assert len(rows) == 4
    assert "." not in rows[1][0].split("T")[1].split("+")[0]  # no microseconds
    assert rows[1][6:] == ["name", "a0", "b0"]


def test_page_query_count_is_fixed_and_pages(client, manager_user):
    client.force_login(manager_user)
    _entries(3, manager_user)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit:log"))
    _entries(120, manager_user)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("audit:log"))
    assert len(many) == len(few)
    assert response.context["next_cursor"]
    older = client.get(reverse("audit:log"), {"before": response.context["next_cursor"]})
    assert older.status_code == 200
    assert len(older.context["rows"]) == 50


def test_page_keeps_a_bad_filter_with_its_error(client, manager_user):
    client.force_login(manager_user)
    response = client.get(reverse("audit:log"), {"since": "2026-05-10", "until": "2026-05-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert 'value="2026-05-10"' in html
