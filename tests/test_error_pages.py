"""Error pages: a retryable 503 while the database is unreachable, never a bare 500."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse

from incidents import views as incident_views

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(engineer_user):
    client = Client(raise_request_exception=False)
    client.force_login(engineer_user)
    return client


def test_database_unreachable_is_a_503_page_that_asks_to_retry(browser, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    # Every query fails, from the session lookup in the middleware on.
    monkeypatch.setattr(CursorWrapper, "execute", unreachable)
    response = browser.get(reverse("incidents:queue"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "back in a moment" in body and "saved whole or not at all" in body


def test_other_failures_are_a_500_page(browser, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(incident_views, "render", broken)
    response = browser.get(reverse("incidents:queue"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_unknown_page_is_a_404_inside_the_layout(browser):
    response = browser.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body and "/no/such/page/" in body and 'class="mainnav"' in body


def test_a_deadlock_is_an_ordinary_500_not_the_database_down_page(browser, monkeypatch):
    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked(*args, **kwargs):
        try:
            raise Deadlock("deadlock detected")
        except Deadlock as cause:
            raise OperationalError("deadlock detected") from cause

    monkeypatch.setattr(incident_views, "render", deadlocked)
    response = browser.get(reverse("incidents:queue"))
    assert response.status_code == 500
