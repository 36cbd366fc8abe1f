"""The foundation: health, login everywhere, roles, tokens, settings, compose file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import Role, has_role

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_needs_no_login_and_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["broker"]) == ("ok", "ok")


@pytest.mark.django_db
def test_healthz_reports_broker_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["broker"], body["queue_depth"]) == ("ok", "down", None)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/profile/", "/admin/"])
def test_anonymous_pages_redirect_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/schema/"])
def test_anonymous_api_is_refused_with_json(client, path):
    response = client.get(path)
    assert response.status_code in (401, 403)
    assert "Location" not in response  # never an HTML redirect to the login page


@pytest.mark.django_db
def test_login_page_is_public_and_labelled(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label for="id_username">' in body
    assert '<label for="id_password">' in body


@pytest.mark.django_db
def test_role_groups_migration_creates_the_contract_names():
    """The data migration makes the groups (a transactional test's flush may have removed
    them from this test database, so run its function again on an empty table)."""
    import importlib

    from django.apps import apps

    Group.objects.all().delete()
    importlib.import_module("accounts.migrations.0002_role_groups").create_groups(apps, None)
    assert set(Group.objects.values_list("name", flat=True)) == {
        "service_desk",
        "support_engineer",
        "developer",
        "product_owner",
        "manager",
    }


@pytest.mark.django_db
def test_has_role(make_user, admin_user):
    desk = make_user(Role.SERVICE_DESK)
    assert has_role(desk, Role.SERVICE_DESK)
    assert not has_role(desk, Role.MANAGER)
    assert has_role(admin_user, Role.MANAGER)


@pytest.mark.django_db
def test_token_endpoint_returns_token_that_authenticates(client, desk_user, password):
    response = client.post(
        "/api/v1/auth/token/", {"username": "desk", "password": password}, content_type="application/json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_root = client.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {token}")
    assert api_root.status_code == 200
    assert "schema" in api_root.json()


@pytest.mark.django_db
def test_token_endpoint_rejects_bad_credentials_with_field_messages(client, desk_user):
    response = client.post(
        "/api/v1/auth/token/", {"username": "desk", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    missing = client.post("/api/v1/auth/token/", {}, content_type="application/json")
    assert missing.status_code == 400
    assert set(missing.json()) == {"username", "password"}


@pytest.mark.django_db
def test_token_endpoint_handles_malformed_json(client):
    response = client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_login_is_rate_limited(client, desk_user, password):
    for _ in range(10):
        client.post(reverse("accounts:login"), {"username": "desk", "password": "nope"})
    response = client.post(reverse("accounts:login"), {"username": "desk", "password": password})
    assert response.status_code == 200  # the form again, not a redirect
    assert "Too many failed sign-in attempts" in response.content.decode()


@pytest.mark.django_db
def test_profile_saves_time_zone_and_pages_show_it(client, desk_user):
    client.force_login(desk_user)
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Des", "last_name": "K", "email": "d@example.com", "time_zone": "America/New_York"},
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "America/New_York" in page
    assert "Service desk (tier 1)" in page


@pytest.mark.django_db
def test_profile_rejects_unknown_time_zone_and_keeps_input(client, desk_user):
    client.force_login(desk_user)
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Typed name", "last_name": "", "email": "", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Typed name" in body
    assert 'class="error"' in body


def _run(args, env_extra=None):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(env_extra or {})
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "tracker.settings.production",
    "SECRET_KEY": "x7!Hq2@pL9#vR4$tN8^mK3&wZ6*bF1(cJ5)dG0-sE2_yU7+aQ4=iO9~lT3",
    "DATABASE_URL": "postgres://tandem:tandem@127.0.0.1:5432/tandem",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "tandem.example.com",
    "METRICS_TOKEN": "metrics-token-for-the-deploy-check",
}


def test_production_refuses_to_start_without_real_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": "changeme"}
    result = _run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_metrics_are_open():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "METRICS_TOKEN"}
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "tandem.W001" in result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is installed by scripts/test"
)
def test_docker_compose_file_is_valid():
    result = _run(["docker-compose", "-f", "docker-compose.yml", "config"], {"SECRET_KEY": "k" * 60})
    assert result.returncode == 0, result.stderr
    for service in ("postgres:", "redis:", "web:", "worker:", "beat:"):
        assert service in result.stdout


@pytest.mark.django_db
def test_users_create_replace_and_revoke_their_own_token(client, desk_user):
    from rest_framework.authtoken.models import Token

    client.force_login(desk_user)
    assert client.post(reverse("accounts:token_create")).status_code == 302
    first = Token.objects.get(user=desk_user).key
    assert first in client.get(reverse("accounts:profile")).content.decode()
    client.post(reverse("accounts:token_create"))
    assert Token.objects.get(user=desk_user).key != first
    assert client.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    client.post(reverse("accounts:token_revoke"))
    assert not Token.objects.filter(user=desk_user).exists()
    assert client.get(reverse("accounts:token_revoke")).status_code == 405


def test_a_hung_redis_costs_the_cache_a_second_not_a_stalled_request():
    """A Redis that accepts connections but never answers: the production cache gives up
    after its socket timeout (and the login throttle, which uses it, fails open)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    port = server.getsockname()[1]
    probe = (
        "import time\n"
        "from django.core.cache import cache\n"
        "began = time.monotonic()\n"
        "try:\n"
        "    cache.get('x')\n"
        "except Exception as exc:\n"
        "    print('failed', type(exc).__name__, round(time.monotonic() - began, 1))\n"
    )
    env = {**PRODUCTION_ENV, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    try:
        result = _run([sys.executable, "manage.py", "shell", "-c", probe], env)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    words = result.stdout.strip().splitlines()[-1].split()
    assert words[:2] == ["failed", "TimeoutError"], result.stdout
    assert float(words[2]) < 3
