"""Small defects found trying Tandem as a new user: a favicon, aria-describedby pointing at
ids that exist, and the embedded broker keeping its files under var/."""

import os
import subprocess
import sys
import textwrap
from collections import Counter
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from accounts.models import User

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ favicon
@pytest.mark.django_db
def test_favicon_ico_answers_without_a_login():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    body = response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert body == (ROOT / "static" / "favicon.ico").read_bytes()
    assert "max-age=86400" in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_link_the_icon_and_the_svg_is_served(client, make_user):
    # the login page (anonymous) and a signed-in page both name the icons
    pages = [Client().get("/accounts/login/")]
    client.force_login(make_user("manager", username="boss"))
    pages.append(client.get("/accounts/profile/"))
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
        assert '<link rel="icon" href="/favicon.ico"' in html
    from django.contrib.staticfiles import finders

    svg = Path(finders.find("favicon.svg")).read_text()
    assert svg.startswith("<svg") and 'viewBox="0 0 32 32"' in svg


# ------------------------------------------------------------------ broker files
def test_filesystem_broker_keeps_every_folder_under_var(tmp_path):
    """With the embedded defaults a worker binds its queues through kombu's filesystem
    transport: the exchange tables it writes land under var/broker/control, not in the
    directory the process runs from (they used to be written to ./control/ and got
    committed)."""
    var, cwd = tmp_path / "var", tmp_path / "cwd"
    for sub in ("broker/queue", "broker/processed"):
        (var / sub).mkdir(parents=True)  # what scripts/run creates
    cwd.mkdir()
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.conf import settings
        from kombu import Exchange, Queue
        from tracker.celery import app
        opts = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        print(settings.CELERY_BROKER_URL)
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            print(key, opts[key])
        with app.connection_for_write() as conn:
            Queue("celery", Exchange("celery"), "celery")(conn.default_channel).declare()
            conn.default_channel.basic_publish(
                conn.default_channel.prepare_message("{}"), exchange="celery", routing_key="celery"
            )
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL", "DATABASE_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tracker.settings.local",
            "TANDEM_VAR_DIR": str(var),
            "PYTHONPATH": str(ROOT),
        }
    )
    run = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split("\n")
    assert lines[0] == "filesystem://"
    folders = dict(line.split(" ", 1) for line in lines[1:5])
    for key, folder in folders.items():
        assert Path(folder).is_relative_to(var / "broker"), (key, folder)
    assert folders["control_folder"] == str(var / "broker" / "control")
    assert (var / "broker" / "control" / "celery.exchange").exists()
    assert len(list((var / "broker" / "queue").iterdir())) == 1  # the published message
    assert list(cwd.iterdir()) == []  # nothing written where the process ran


def test_no_broker_control_files_in_the_checkout():
    tracked = subprocess.run(  # noqa: S603, S607 - git in our own checkout
        ["git", "ls-files", "control"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert tracked == ""
    ignored = subprocess.run(  # noqa: S603, S607
        ["git", "check-ignore", "var/broker/control/celery.exchange", "control/celery.exchange"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == ["var/broker/control/celery.exchange", "control/celery.exchange"]


# ------------------------------------------------------------------ aria-describedby
class _Ids(HTMLParser):
    """Every id in a page, and every id an aria-describedby names (with its element)."""

    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()
        self.described: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
        for ref in (attrs.get("aria-describedby") or "").split():
            self.described.append((ref, f"<{tag} name={attrs.get('name')!r} id={attrs.get('id')!r}>"))
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    handle_startendtag = handle_starttag


def dangling_describedby(html: str) -> list[str]:
    """The aria-describedby references of a page that name no element of the page."""
    page = _Ids()
    page.feed(html)
    return [f"{element} → #{ref}" for ref, element in page.described if ref not in page.ids]


def test_the_checker_finds_a_dangling_reference():
    ok = '<input id="id_a" aria-describedby="id_a_helptext"><small id="id_a_helptext">h</small>'
    assert dangling_describedby(ok) == []
    bad = (
        '<input name="a" id="id_a" aria-describedby="id_a_helptext id_a_error">'
        '<small id="id_a_help">h</small>'  # the id the field include used to give
    )
    assert dangling_describedby(bad) == [
        "<input name='a' id='id_a'> → #id_a_helptext",
        "<input name='a' id='id_a'> → #id_a_error",
    ]


def test_field_include_names_the_ids_django_references_for_help_and_errors():
    """The shared field include renders the help text and the errors under the ids the
    widget's aria-describedby names, also with several errors (one error block, one id)."""
    from django import forms
    from django.template.loader import render_to_string

    class Probe(forms.Form):
        when = forms.IntegerField(help_text="Minutes.", min_value=10)

    form = Probe({"when": "5"})
    assert not form.is_valid()
    form.add_error("when", "Another problem.")  # as a service's refusal adds one
    assert len(form.errors["when"]) == 2
    html = render_to_string("includes/field.html", {"field": form["when"]})
    assert 'aria-describedby="id_when_helptext id_when_error"' in html
    assert dangling_describedby(html) == []
    page = _Ids()
    page.feed(html)
    assert page.ids["id_when_error"] == 1 and page.ids["id_when_helptext"] == 1
    assert html.count('class="error"') == 2


SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/accounts/logout", "/favicon")
PER_ROUTE = 1  # pages of one route each role opens (one incident, one card: same template)


def _crawl(client, start="/"):
    """Every page a signed-in user reaches by following links from the home page (GET
    only; at most PER_ROUTE pages per route), with the dangling references of each."""
    seen_routes: Counter = Counter()
    seen, queue, problems, pages = set(), [start], {}, 0
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIP_PREFIXES) or "export" in url or "csv" in url:
            continue
        seen.add(url)
        try:
            route = resolve(path).route
        except Resolver404:
            continue
        if seen_routes[route] >= PER_ROUTE:
            continue
        seen_routes[route] += 1
        response = client.get(url, follow=True)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        html = response.content.decode()
        if found := dangling_describedby(html):
            problems[url] = found
        parser = _Ids()
        parser.feed(html)
        for href in parser.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages, problems


@pytest.mark.django_db
def test_every_aria_describedby_in_every_page_names_an_existing_id():
    """The demo organisation, crawled by a user of each role from the home page: no page
    has an aria-describedby naming an id that is not in the page."""
    call_command("seed_demo", stdout=StringIO())
    total, problems = 0, {}
    for username in ("max", "paula", "tariq", "sam", "dev", "admin"):
        # a page failing for another reason is not this test's business: it is skipped
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username=username))
        pages, found = _crawl(client)
        total += pages
        problems |= {f"{username} {url}": refs for url, refs in found.items()}
    assert total > 60  # the crawl really reached the application's pages
    assert problems == {}


@pytest.mark.django_db
def test_forms_shown_again_with_errors_name_existing_ids(make_user):
    """Forms re-shown after a refused save carry aria-describedby to their errors too."""
    call_command("seed_demo", stdout=StringIO())
    from boards.models import Card
    from sprints.models import Sprint

    client = Client()
    client.force_login(User.objects.get(username="max"))
    card = Card.objects.filter(cancelled_at__isnull=True).order_by("pk").first()
    sprint = Sprint.objects.filter(state="planning").order_by("pk").first() or Sprint.objects.first()
    posts = {
        f"/boards/cards/{card.pk}/": {"title": "", "due_date": "not a date"},
        f"/sprints/{sprint.pk}/edit/": {"name": sprint.name, "start": "", "end": ""},
        "/sprints/new/": {"name": ""},
        "/incidents/new/": {"title": ""},
        "/boards/new/": {"name": ""},
    }
    for url, data in posts.items():
        response = client.post(url, data)
        html = response.content.decode()
        assert response.status_code in (200, 400), (url, response.status_code)
        assert "_error" in html and "aria-describedby" in html, url
        assert dangling_describedby(html) == [], url
