"""Redis stopped under a real gunicorn with the production settings (Redis is both the
broker and the cache there): the API keeps taking writes and people can still sign in."""

import re

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.authtoken.models import Token

from accounts.roles import STAFF_ROLES, Role
from benchmarks.server import Gunicorn, production_env
from boards.models import Card, ColumnCategory
from incidents.models import Comment, Incident
from sla.models import SLATimer
from tests.boards.factories import BoardFactory, CardFactory, column_of
from tests.factories import PASSWORD, ServiceFactory, UserFactory

from .helpers import database_url, free_port, record


@pytest.fixture
def _groups(transactional_db):
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)


def _login(base, username):
    """Sign in through the login form as a browser behind the TLS proxy would."""
    s = requests.Session()
    headers = {"X-Forwarded-Proto": "https"}
    page = s.get(f"{base}/accounts/login/", headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    cookie = page.cookies.get("csrftoken")
    origin = "https://" + base.split("://", 1)[1]
    return requests.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={
            **headers,
            "Cookie": f"csrftoken={cookie}",
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
        allow_redirects=False,
        timeout=10,
    )


@pytest.mark.battery
def test_api_and_login_work_with_redis_stopped_under_gunicorn(_groups, spare_redis):
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    # The production settings verify with PBKDF2 (the tests hash with MD5 for speed).
    desk.password = PBKDF2PasswordHasher().encode(PASSWORD, "reliabilitysalt", iterations=10_000)
    desk.save(update_fields=["password"])
    dev = UserFactory(roles=[Role.DEVELOPER])
    service = ServiceFactory()
    service.support_team.members.add(desk)
    board = BoardFactory(teams=[service.team])
    card = CardFactory(board=board)
    ready = column_of(board, ColumnCategory.READY)
    desk_h = {"Authorization": f"Token {Token.objects.create(user=desk).key}", "X-Forwarded-Proto": "https"}
    dev_h = {"Authorization": f"Token {Token.objects.create(user=dev).key}", "X-Forwarded-Proto": "https"}

    port = free_port(range(8392, 8399))
    env = production_env(database_url(connection.settings_dict), spare_redis.url, port)
    calls = {}  # what -> status, every call made with Redis stopped
    ids = []
    with Gunicorn(env, port, workers=2) as base:
        assert _login(base, desk.username).status_code == 302  # with Redis up
        spare_redis.stop()
        health = requests.get(f"{base}/healthz", timeout=10)
        calls["GET /healthz"] = health.status_code
        broker_reported_down = (health.json()["database"], health.json()["broker"]) == ("ok", "down")
        calls["browser sign-in"] = _login(base, desk.username).status_code
        for n in range(10):
            body = {
                "title": f"Redis down {n}",
                "description": "x",
                "service": service.pk,
                "impact": "medium",
                "urgency": "high",
                "type": "incident",
            }
            r = requests.post(f"{base}/api/v1/incidents/", headers=desk_h, timeout=15, json=body)
            calls[f"POST incident {n}"] = r.status_code
            if r.status_code == 201:
                ids.append(r.json()["id"])
        if ids:
            r = requests.post(
                f"{base}/api/v1/incidents/{ids[0]}/comments/",
                headers=desk_h,
                timeout=15,
                json={"body": "Reply while Redis is down", "public": True},
            )
            calls["POST reply"] = r.status_code
        r = requests.post(
            f"{base}/api/v1/cards/{card.pk}/move/", headers=dev_h, timeout=15, json={"column": ready.pk}
        )
        calls["POST card move"] = r.status_code
        calls["GET incident list"] = requests.get(
            f"{base}/api/v1/incidents/", headers=desk_h, timeout=15
        ).status_code
    expected = {
        "GET /healthz": 200,
        "browser sign-in": 302,
        "POST reply": 201,
        "POST card move": 200,
        "GET incident list": 200,
        **{f"POST incident {n}": 201 for n in range(10)},
    }
    wrong = {k: v for k, v in calls.items() if v != expected.get(k)}
    if "POST reply" not in calls:
        wrong["POST reply"] = "not attempted: no incident was created"
    # Every write that was acknowledged is stored; writes refused with a 500 are not lost
    # data, but they are failures the battery reports.
    stored = Incident.objects.filter(pk__in=ids).count()
    lost = (len(ids) - stored) + (
        1 if calls.get("POST reply") == 201 and not Comment.objects.filter(incident_id=ids[0]).exists() else 0
    )
    record(
        "redis stopped under gunicorn (production settings)",
        faults=["redis stopped (broker and cache)"],
        checked=len(ids) + (calls.get("POST reply") == 201) + (calls["POST card move"] == 200),
        lost=lost,
        notes=f"{len(calls)} calls with Redis down, refused or wrong: {wrong or 'none'}",
    )
    assert broker_reported_down
    assert not wrong, f"with Redis stopped: {wrong}"
    assert lost == 0
    assert SLATimer.objects.filter(incident_id__in=ids).count() == 2 * len(ids)
    assert Card.objects.get(pk=card.pk).column_id == ready.pk
