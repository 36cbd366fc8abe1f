"""incidents.history, the one writer of an incident's history: one entry, many, and the
INSERT ... SELECT a set-based sweep embeds."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from incidents.history import HistoryEntry, history_insert_select, history_record, history_record_many
from incidents.models import IncidentEvent
from tests.sla.factories import make_incident

pytestmark = pytest.mark.django_db
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_one_entry_keeps_values_as_text_and_the_actor(manager_user):
    incident = make_incident()
    row = history_record(
        incident=incident, actor=manager_user, at=AT, event="field_changed", field="tier", old=1, new=2
    )
    row.refresh_from_db()
    assert (row.incident_id, row.actor_id, row.at, row.event) == (
        incident.pk,
        manager_user.pk,
        AT,
        "field_changed",
    )
    assert (row.field, row.old, row.new, row.note) == ("tier", "1", "2", "")
    anonymous = history_record(
        incident=incident, actor=AnonymousUser(), at=AT, event="sla_breach_action", old=None
    )
    assert anonymous.actor_id is None and anonymous.old == ""


def test_many_entries_in_one_insert(django_assert_num_queries):
    a, b = make_incident(), make_incident()
    entries = [HistoryEntry(incident_id=i.pk, at=AT, event="sla_warning", field="response") for i in (a, b)]
    with django_assert_num_queries(1):
        history_record_many(entries)
    assert sorted(IncidentEvent.objects.values_list("incident_id", "event")) == [
        (a.pk, "sla_warning"),
        (b.pk, "sla_warning"),
    ]
    with django_assert_num_queries(0):
        assert history_record_many([]) == []


def test_insert_select_appends_one_entry_per_source_row_with_defaults_for_the_rest():
    a, b = make_incident(), make_incident()
    sql, params = history_insert_select(
        source="src",
        columns={
            "incident": ("src.incident_id", None),
            "at": ("src.at", None),
            "event": ("%s", "sla_breach"),
            "note": ("src.note", None),
        },
    )
    source = (
        "WITH src (incident_id, at, note) AS (VALUES (%s, %s::timestamptz, %s), (%s, %s::timestamptz, %s)) "
    )
    with connection.cursor() as cursor:
        cursor.execute(source + sql, [a.pk, AT, "first", b.pk, AT, "second", *params])
    rows = IncidentEvent.objects.order_by("incident_id")
    assert [(r.incident_id, r.at, r.event, r.note, r.field, r.old, r.new, r.actor_id) for r in rows] == [
        (a.pk, AT, "sla_breach", "first", "", "", "", None),
        (b.pk, AT, "sla_breach", "second", "", "", "", None),
    ]


def test_insert_select_needs_the_incident_the_instant_and_the_event():
    with pytest.raises(ValueError, match="at, event"):
        history_insert_select(source="src", columns={"incident": ("src.incident_id", None)})


def test_the_sla_app_writes_history_only_through_the_incidents_app():
    sla = Path(__file__).resolve().parents[2] / "sla"
    writes = re.compile(
        r"IncidentEvent(\(|\.objects\.(create|bulk_create|update|get_or_create)|\._meta\.db_table)"
    )
    offenders = [
        f"{path.relative_to(sla.parent)}:{n}"
        for path in sla.rglob("*.py")
        if "migrations" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line)
    ]
    assert offenders == []
