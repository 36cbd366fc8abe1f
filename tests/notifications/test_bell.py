"""The bell refreshes itself: a fragment with the unread count, polled by the page."""

import pytest
from django.urls import reverse

from notifications.models import Kind
from notifications.services import notification_create, notification_mark_read

pytestmark = pytest.mark.django_db


def test_the_bell_fragment_counts_unread_and_polls(client, engineer_user):
    client.force_login(engineer_user)
    notification_create(kind=Kind.REPLY, recipients=[engineer_user], title="one")
    notification_create(kind=Kind.REPLY, recipients=[engineer_user], title="two")
    body = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="bell-count">2<' in body
    assert 'hx-trigger="every 60s"' in body and 'hx-swap="outerHTML"' in body
    assert "<html" not in body  # the fragment only

    notification_mark_read(user=engineer_user)
    body = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true").content.decode()
    assert "bell-count" not in body


def test_every_page_carries_the_polling_bell(client, engineer_user):
    client.force_login(engineer_user)
    page = client.get(reverse("notifications:list")).content.decode()
    assert reverse("notifications:bell") in page


def test_a_fragment_refresh_after_logout_sends_the_page_to_the_login_form(client):
    response = client.get(
        reverse("notifications:bell"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/incidents/",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))
    assert "next=" in response["HX-Redirect"] and "incidents" in response["HX-Redirect"]


def test_a_plain_anonymous_request_still_redirects(client):
    response = client.get(reverse("notifications:bell"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
