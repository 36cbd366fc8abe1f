"""Browser views: bad input shows errors next to fields and keeps what was typed; unknown
keys and actions are 404; the queue copes with nonsense filters."""

import pytest
from django.urls import reverse

from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_create_form_keeps_input_and_shows_field_errors(client, org):
    client.force_login(org.desk)
    r = client.post(
        reverse("incidents:create"),
        {
            "title": "",
            "service": "999999",
            "impact": "enormous",
            "urgency": "low",
            "description": "typed text",
        },
    )
    assert r.status_code == 400
    form = r.context["form"]
    assert {"title", "service", "impact"} <= set(form.errors)
    html = r.content.decode()
    assert "typed text" in html and "Give the incident a short title." in html
    assert Incident.objects.count() == 0


def test_create_form_redirects_to_the_new_incident(client, org):
    client.force_login(org.desk)
    r = client.post(
        reverse("incidents:create"),
        {
            "title": "Checkout down",
            "service": org.service.pk,
            "impact": "high",
            "urgency": "high",
            "type": "incident",
        },
    )
    incident = Incident.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("incidents:detail", kwargs={"key": incident.key})
    assert incident.priority == "P1"


def test_action_errors_render_next_to_the_field_with_input_kept(client, org, log_incident):
    incident = log_incident()
    client.force_login(org.desk)
    url = reverse("incidents:action", kwargs={"key": incident.key, "name": "escalate"})
    r = client.post(
        url, {"escalate-team": org.t2.pk, "escalate-note": "", "escalate-version": incident.version}
    )
    assert r.status_code == 400
    assert "note" in r.context["forms"]["escalate"].errors
    assert r.context["open_action"] == "escalate"
    assert f'<option value="{org.t2.pk}" selected>' in r.content.decode()


def test_refused_transition_and_stale_version_are_shown_not_raised(client, org, log_incident):
    incident = log_incident()
    client.force_login(org.desk)
    close = reverse("incidents:action", kwargs={"key": incident.key, "name": "close"})
    r = client.post(close, {})
    assert r.status_code == 409 and "Allowed next states" in r.content.decode()
    hold = reverse("incidents:action", kwargs={"key": incident.key, "name": "hold"})
    r = client.post(hold, {"hold-reason": "awaiting_customer", "hold-version": 99})
    assert r.status_code == 409 and "changed by someone else" in r.content.decode()
    incident.refresh_from_db()
    assert incident.status == "new"


def test_unknown_key_action_and_method(client, org, log_incident):
    incident = log_incident()
    client.force_login(org.desk)
    assert client.get(reverse("incidents:detail", kwargs={"key": "INC-0"})).status_code == 404
    assert (
        client.post(reverse("incidents:action", kwargs={"key": incident.key, "name": "explode"})).status_code
        == 404
    )
    assert (
        client.get(reverse("incidents:action", kwargs={"key": incident.key, "name": "take"})).status_code
        == 405
    )


@pytest.mark.parametrize(
    "query",
    ["priority=P9", "team=abc", "assignee=bob", "sla_state=soon", "page=999", "sort=random", "tab=nope"],
)
def test_queue_survives_bad_filters(client, org, log_incident, query):
    log_incident()
    client.force_login(org.desk)
    r = client.get(reverse("incidents:queue") + "?" + query)
    assert r.status_code == 200


def test_queue_tabs(client, org, log_incident):
    from incidents import services

    mine = services.incident_take(incident=log_incident(title="mine"), actor=org.desk)
    unassigned = log_incident(title="waiting")
    other_team = services.incident_escalate(
        incident=log_incident(title="tier two"), actor=org.desk, team=org.t2, note="over to you"
    )
    client.force_login(org.desk)

    def keys(tab):
        return {row["key"] for row in client.get(reverse("incidents:queue") + f"?tab={tab}").context["rows"]}

    assert keys("mine") == {mine.key}
    assert keys("unassigned") == {unassigned.key}
    assert keys("all") == {mine.key, unassigned.key, other_team.key}
