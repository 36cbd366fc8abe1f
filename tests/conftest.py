"""Shared fixtures: role users, API clients, a real Celery worker, a real Chromium."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role

from .factories import PASSWORD, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made
# from the same thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
# Under pytest-xdist ("gw0", "gw1", …; empty in a serial run): files each worker writes get
# its name, so two workers never share a log or a beat schedule.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# ------------------------------------------------------------------ parallel runs (xdist)
def _template_db_name() -> str:
    from django.conf import settings

    return f"test_{settings.DATABASES['default']['NAME']}_template"


def _postgres() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.fixture(scope="session")
def _xdist_db_from_template(request, django_db_blocker, django_db_modify_db_settings):
    """Under pytest-xdist, migrate once and copy: the first worker builds test_<name>_template
    with the migrations (under a file lock; the others wait), then every worker creates its
    own test_<name>_gwN from it with `CREATE DATABASE … TEMPLATE` (a file copy, about a
    second) instead of running the migrations again. pytest-django then finds the database
    in place (keepdb) and its migrate has nothing left to do. Serial runs, --reuse-db and
    --create-db keep pytest-django's own set-up."""
    import fcntl
    import tempfile

    from django.conf import settings
    from django.db import connections

    worker = getattr(request.config, "workerinput", {}).get("workerid")
    if not worker or not _postgres() or request.config.getvalue("reuse_db"):
        yield False
        return
    conn = connections["default"]
    name, target, template = (
        conn.settings_dict["NAME"],
        conn.settings_dict["TEST"]["NAME"],
        _template_db_name(),
    )
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    quote = conn.ops.quote_name
    with django_db_blocker.unblock():
        with open(Path(tempfile.gettempdir()) / f"tandem-{template}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            lock.seek(0)
            if lock.read().strip() != run:  # the first worker of this run: build the template
                conn.settings_dict["TEST"]["NAME"] = template
                try:
                    conn.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
                finally:
                    conn.close()
                    conn.settings_dict["TEST"]["NAME"] = target
                    conn.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name
                lock.seek(0)
                lock.truncate()
                lock.write(run)
                lock.flush()
            fcntl.flock(lock, fcntl.LOCK_UN)
        with conn._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
            cursor.execute(f"CREATE DATABASE {quote(target)} WITH TEMPLATE {quote(template)}")
    yield True
    with django_db_blocker.unblock():
        connections.close_all()
        conn.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name
        with conn._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")


@pytest.fixture(scope="session")
def django_db_keepdb(request, _xdist_db_from_template):
    """pytest-django's own fixture (--reuse-db), and True when the worker's database was just
    copied from the template (see above), which then also drops it at the end."""
    return _xdist_db_from_template or request.config.getvalue("reuse_db")


def pytest_sessionfinish(session):
    """The xdist controller drops the template its workers copied (nothing in serial runs)."""
    if not getattr(session.config.option, "numprocesses", None) or hasattr(session.config, "workerinput"):
        return
    if session.config.getvalue("reuse_db") or not _postgres():
        return
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    with session.config.stash[blocking_manager_key].unblock(), connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(_template_db_name())}")


@pytest.fixture(scope="session", autouse=True)
def _celery_config_read_once():
    """Celery reads Django's CELERY_* settings lazily, the first time its config is touched.
    Touch it before any test overrides CELERY_BROKER_URL (the broker-down tests point it at
    port 1), or a worker process would publish to that dead port for the rest of its run."""
    from tracker.celery import app

    assert app.conf.broker_url


@pytest.fixture(autouse=True)
def _clear_cache():
    """Login throttling and other counters live in the cache: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def make_user(db):
    def make(*roles, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def desk_user(make_user):
    return make_user(Role.SERVICE_DESK, username="desk")


@pytest.fixture
def engineer_user(make_user):
    return make_user(Role.SUPPORT_ENGINEER, username="engineer")


@pytest.fixture
def developer_user(make_user):
    return make_user(Role.DEVELOPER, username="developer")


@pytest.fixture
def po_user(make_user):
    return make_user(Role.PRODUCT_OWNER, username="po")


@pytest.fixture
def manager_user(make_user):
    return make_user(Role.MANAGER, username="manager")


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it with a token."""

    class Client(APIClient):
        def as_user(self, user):
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            self.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            return self

    return Client()


# ------------------------------------------------------------------ real Celery worker
@pytest.fixture
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` with beat on the real Redis broker, using the test database.
    Tests that use it must use `transactional_db` so rows are committed.

    Per test, not per session: a beat left running would sweep (and change) the rows of
    every later test."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tracker.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            # A short SLA sweep period so tests see beat-driven breaches quickly.
            "SLA_SWEEP_SECONDS": os.environ.get("SLA_SWEEP_SECONDS", "2"),
        }
    )
    from tracker.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{XDIST_WORKER}" if XDIST_WORKER else ""
    log_path = ARTIFACTS / f"celery-worker{suffix}.log"
    log = open(log_path, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "--beat",
            "--loglevel=info",
            "--pool=solo",
            "-n",
            f"test-{os.getpid()}@%h",
            "--schedule",
            str(ARTIFACTS / f"beat-schedule{suffix}"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited early; see {log_path}")
        if "ready." in log_path.read_text():
            break
        time.sleep(0.3)
    else:
        proc.terminate()
        raise RuntimeError("celery worker did not become ready in 60 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


# ------------------------------------------------------------------ real Chromium
@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/London")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def screenshot():
    """`screenshot(page, "name")` saves tests/artifacts/<name>.png for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(pg, name):
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(live_server, password):
    """Sign a Playwright page in through the real login form."""

    def do_login(pg, user):
        pg.goto(f"{live_server.url}/accounts/login/")
        pg.get_by_label("Username").fill(user.username)
        pg.get_by_label("Password").fill(password)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_load_state("networkidle")
        return pg

    return do_login
