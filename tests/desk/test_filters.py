"""The queue's customer and date-range filters (incidents/filters.py, filter_fields.py), on the
list endpoint and the queue page: inclusive bounds, date-only bounds in the viewer's zone,
400 / a field error for bad values."""

from datetime import datetime

import pytest
from django.urls import reverse

from incidents.models import Incident


def _at(text):
    return datetime.fromisoformat(text)


@pytest.fixture
def spread(org, log_incident, contoso):
    """Four incidents created and updated at known instants (UTC)."""
    made = {}
    for name, created, updated, customer in [
        ("a", "2026-11-30T23:30:00+00:00", "2026-12-01T08:00:00+00:00", contoso),
        ("b", "2026-12-01T10:00:00+00:00", "2026-12-03T10:00:00+00:00", contoso),
        ("c", "2026-12-05T23:59:00+00:00", "2026-12-06T00:30:00+00:00", org.customer),
        ("d", "2026-12-06T00:01:00+00:00", "2026-12-07T12:00:00+00:00", None),
    ]:
        incident = log_incident(title=name, customer=customer, at=_at(created))
        Incident.objects.filter(pk=incident.pk).update(updated_at=_at(updated))
        made[name] = incident
    return made


def _titles(api, query):
    r = api.get("/api/v1/incidents/?" + query)
    assert r.status_code == 200, r.content
    return sorted(row["title"] for row in r.json()["results"])


def test_customer_filter(api, org, spread, contoso):
    api.as_user(org.desk)
    assert _titles(api, f"customer={contoso.pk}") == ["a", "b"]
    assert _titles(api, f"customer={org.customer.pk}") == ["c"]


def test_date_only_bounds_are_whole_days_inclusive_in_utc(api, org, spread):
    api.as_user(org.desk)  # no zone of their own: the site's (UTC)
    assert _titles(api, "created_from=2026-12-01&created_to=2026-12-05") == ["b", "c"]
    assert _titles(api, "created_to=2026-11-30") == ["a"]
    assert _titles(api, "created_from=2026-12-06") == ["d"]
    assert _titles(api, "updated_from=2026-12-03&updated_to=2026-12-06") == ["b", "c"]


def test_date_only_bounds_follow_the_viewers_time_zone(api, org, spread):
    # In New York (UTC-5), 5 December ends at 05:00 UTC on the 6th: d (00:01 UTC) is the
    # evening of the 5th there, and a (23:30 UTC on 30 Nov) is 30 November too.
    org.desk.time_zone = "America/New_York"
    org.desk.save()
    api.as_user(org.desk)
    assert _titles(api, "created_from=2026-12-01&created_to=2026-12-05") == ["b", "c", "d"]
    assert _titles(api, "created_from=2026-11-30&created_to=2026-11-30") == ["a"]


def test_datetime_bounds_are_exact(api, org, spread):
    api.as_user(org.desk)
    assert _titles(api, "created_from=2026-12-01T10:00:00%2B00:00&created_to=2026-12-05T23:59:00Z") == [
        "b",
        "c",
    ]
    # A time with an offset is taken as written: 01:00+01:00 is midnight UTC.
    assert _titles(api, "created_to=2026-12-01T01:00%2B01:00") == ["a"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("created_from=yesterday", "created_from"),
        ("created_to=2026-13-01", "created_to"),
        ("updated_from=2026-12-01T25:00", "updated_from"),
        ("created_from=2026-12-05&created_to=2026-12-01", "created_to"),
        ("customer=999999", "customer"),
        ("customer=contoso", "customer"),
    ],
)
def test_bad_bounds_and_customers_are_400_with_the_field(api, org, spread, query, field):
    api.as_user(org.desk)
    r = api.get("/api/v1/incidents/?" + query)
    assert r.status_code == 400, r.content
    assert field in r.json() and r.json()[field][0]


def test_queue_page_filters_by_customer_and_dates(client, org, spread, contoso):
    client.force_login(org.desk)
    r = client.get(
        reverse("incidents:queue")
        + f"?status=&customer={contoso.pk}&created_from=2026-12-01&created_to=2026-12-05"
    )
    assert r.status_code == 200
    assert [row["title"] for row in r.context["rows"]] == ["b"]
    html = r.content.decode()
    assert 'name="customer"' in html and 'name="created_from"' in html and 'name="updated_to"' in html
    assert 'value="2026-12-01"' in html  # the bound is kept in its field
    assert "(UTC)" in html  # the zone the dates are read in is shown


def test_queue_page_shows_a_bad_bound_next_to_its_field_and_keeps_it(client, org, spread):
    client.force_login(org.desk)
    r = client.get(reverse("incidents:queue") + "?created_from=2026-12-09&created_to=2026-12-01")
    html = r.content.decode()
    assert r.context["rows"] == []
    assert 'id="id_created_to_error"' in html and "before its start" in html
    assert 'value="2026-12-09"' in html and 'value="2026-12-01"' in html
    r = client.get(reverse("incidents:queue") + "?updated_from=soon")
    assert "Enter a date like 2026-12-01" in r.content.decode() and 'value="soon"' in r.content.decode()
