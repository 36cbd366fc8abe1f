"""A new incident is inserted with its search vector (incidents.search.new_incident_vector)
and its SLA due instant: the same vector the services' refresh (VECTOR_SQL) computes from
the stored row, so the insert is not followed by UPDATEs that write the row and its two
dozen indexes again."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import search, services
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def _stored_and_recomputed(pk):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.search_vector::text, ({search.VECTOR_SQL.format(t='i')})::text "  # noqa: S608
            "FROM incidents_incident i WHERE i.id = %s",
            [pk],
        )
        return cursor.fetchone()


@pytest.mark.parametrize(
    ("title", "description", "contact"),
    [
        ("Checkout loops on payment", "", ""),
        (
            "  Refunds fail for EUR  ",
            "Customers see error 502 at step-3; it's the PSP's timeout.",
            "ops@x.example",
        ),
        ("Ünïcode títle — “quotes” & <b>", "Beschreibung mit Umlauten: Größe", "Zoë"),
        ("Long text", "word " * 30_000, "x"),  # past MAX_TEXT: cut as the refresh cuts it
        ("'; DROP TABLE incidents_incident; --", "%s %(x)s {t}", "\\x00 backslash"),
    ],
)
def test_the_inserted_vector_is_the_refreshed_one(desk, title, description, contact):
    incident = desk.log(title, description=description)
    Incident.objects.filter(pk=incident.pk).update(contact=contact)  # the contact's words, too
    search.vector_refresh([incident.pk])
    refreshed = _stored_and_recomputed(incident.pk)
    inserted = services.incident_create(
        actor=desk.sam, title=title, service=desk.service, description=description, contact=contact
    )
    stored, recomputed = _stored_and_recomputed(inserted.pk)
    assert stored == recomputed
    assert stored.replace(inserted.key.split("-")[1], "N") == refreshed[0].replace(
        incident.key.split("-")[1], "N"
    )


def test_creating_an_incident_writes_its_row_once(desk):
    """The insert carries the search vector and the SLA due instant (the SLA app plans the
    clocks before the row is written): no UPDATE of the incident follows it."""
    from incidents.services import priority_for
    from sla.models import SLATimer
    from tests.sla.factories import PolicyFactory

    PolicyFactory(priority=priority_for("medium", "medium"), calendar__always_open=True)
    with CaptureQueriesContext(connection) as queries:
        incident = desk.log("One write of the row")
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if s.startswith('UPDATE "incidents_incident"')], statements
    assert not [s for s in statements if s.startswith("UPDATE") and "search_vector" in s], statements
    assert Incident.objects.filter(pk=incident.pk, search_vector="write").exists()
    timers = list(SLATimer.objects.filter(incident=incident))
    assert len(timers) == 2 and all(t.due_at for t in timers)
    stored = Incident.objects.get(pk=incident.pk).sla_due_at
    assert stored == min(t.due_at for t in timers) == incident.sla_due_at
    # The instance does not carry the expression it was inserted with: saving it again
    # keeps the stored vector.
    incident.title = "One write of the row, renamed"
    incident.save(update_fields=["title"])
    assert _stored_and_recomputed(incident.pk)[0] is not None
