"""Date and datetime inputs render what a browser's date input accepts (ISO), so a form
reopened shows its stored value and saving it again keeps it."""

import importlib
import pkgutil
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from tracker.widgets import DateInput, DateTimeInput

DAY = date(2026, 5, 12)  # day 12 of month 5: a locale format would show 12/05/2026


def _value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def _type(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return re.search(r'type="([^"]*)"', tag).group(1)


# ------------------------------------------------------------------ the widgets
def test_date_input_renders_iso_and_reads_it_back():
    class Probe(forms.Form):
        day = forms.DateField(widget=DateInput)

    html = str(Probe(initial={"day": DAY})["day"])
    assert _type(html, "day") == "date" and _value(html, "day") == "2026-05-12"
    bound = Probe({"day": _value(html, "day")})
    assert bound.is_valid() and bound.cleaned_data["day"] == DAY


def test_datetime_input_renders_the_viewers_local_time_and_reads_it_back():
    class Probe(forms.Form):
        at = forms.DateTimeField(widget=DateTimeInput)

    instant = datetime(2026, 5, 12, 13, 30, tzinfo=UTC)
    with timezone.override("Europe/London"):  # BST: UTC+1
        html = str(Probe(initial={"at": instant})["at"])
        assert _type(html, "at") == "datetime-local"
        assert _value(html, "at") == "2026-05-12T14:30"
        bound = Probe({"at": _value(html, "at")})
        assert bound.is_valid(), bound.errors
        assert bound.cleaned_data["at"] == instant
    with timezone.override("America/New_York"):
        assert _value(str(Probe(initial={"at": instant})["at"]), "at") == "2026-05-12T09:30"


# ------------------------------------------------------------------ every form of the project
def _own_app_configs():
    """Tandem's own apps: under BASE_DIR but not installed packages (the virtualenv, .venv,
    lives under BASE_DIR too, and walking a library imports its optional integrations,
    e.g. django_prometheus.cache.backends.django_memcached_consul)."""
    root = Path(settings.BASE_DIR)
    for config in apps.get_app_configs():
        path = Path(config.path)
        if not path.is_relative_to(root) or path.is_relative_to(sys.prefix):
            continue
        if {"site-packages", "dist-packages"}.intersection(path.parts):
            continue
        yield config


def _project_form_classes():
    """Every Form class defined in Tandem's own modules (any module of a project app)."""
    skip = {"migrations", "management", "settings", "tests", "wsgi", "asgi", "celery"}
    own = list(_own_app_configs())
    for config in own:
        importlib.import_module(config.name)
        for info in pkgutil.walk_packages([config.path], prefix=f"{config.name}."):
            if not skip.intersection(info.name.split(".")):
                importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    apps_names = {c.name for c in own}
    return {c for c in subclasses(forms.BaseForm) if c.__module__.split(".")[0] in apps_names}


def _date_fields():
    found = []
    for form_class in _project_form_classes():
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                found.append((f"{form_class.__module__}.{form_class.__name__}.{name}", field))
    return sorted(found, key=lambda f: f[0])


def test_the_scan_finds_the_forms_with_dates():
    names = {name for name, _field in _date_fields()}
    assert {
        "boards.forms.CardEditForm.due_date",
        "sprints.forms.SprintForm.start",
        "sprints.forms.SprintForm.end",
        "sprints.forms.SprintEditForm.start",
        "sprints.forms.SprintEditForm.end",
        "dashboards.filters.PeriodFilterForm.start",
        "dashboards.filters.PeriodFilterForm.end",
    } <= names


@pytest.mark.parametrize(("name", "field"), _date_fields(), ids=[n for n, _f in _date_fields()])
def test_every_date_field_of_every_form_uses_the_iso_widget_and_round_trips(name, field):
    """Whatever form a date or datetime field is on, it renders the stored value in the
    form a browser's input accepts, and the rendered value parses back to it."""
    probe = type("Probe", (forms.Form,), {"value": field})
    if isinstance(field, forms.DateTimeField):
        assert isinstance(field.widget, DateTimeInput), name
        initial, shown = datetime(2026, 5, 12, 13, 30, tzinfo=UTC), "2026-05-12T14:30"
    else:
        assert isinstance(field.widget, DateInput), name
        initial, shown = DAY, "2026-05-12"
    with timezone.override("Europe/London"):
        html = str(probe(initial={"value": initial})["value"])
        assert _value(html, "value") == shown, name
        bound = probe({"value": shown})
        assert bound.is_valid(), (name, bound.errors)
        assert bound.cleaned_data["value"] == initial


# ------------------------------------------------------------------ each edit form, real objects
@pytest.mark.django_db
def test_card_edit_form_shows_the_due_date():
    from boards.forms import CardEditForm
    from tests.boards.factories import BoardFactory, CardFactory

    card = CardFactory(board=BoardFactory(), due_date=DAY)
    html = str(CardEditForm(card=card)["due_date"])
    assert _type(html, "due_date") == "date" and _value(html, "due_date") == "2026-05-12"


@pytest.mark.django_db
def test_sprint_edit_form_shows_first_and_last_day():
    from sprints.forms import SprintEditForm
    from tests.sprints.factories import SprintFactory

    sprint = SprintFactory(start=DAY, end=DAY + timedelta(days=11))
    form = SprintEditForm(
        sprint=sprint, initial={"name": sprint.name, "start": sprint.start, "end": sprint.end}
    )
    assert _value(str(form["start"]), "start") == "2026-05-12"
    assert _value(str(form["end"]), "end") == "2026-05-23"


@pytest.mark.django_db
def test_sprint_form_shows_a_proposed_first_day():
    from sprints.forms import SprintForm

    assert _value(str(SprintForm(initial={"start": DAY})["start"]), "start") == "2026-05-12"


@pytest.mark.django_db
def test_dashboard_period_form_shows_its_period():
    from dashboards.filters import PeriodFilterForm

    form = PeriodFilterForm(initial={"start": DAY, "end": DAY + timedelta(days=29)})
    assert _value(str(form["start"]), "start") == "2026-05-12"
    assert _value(str(form["end"]), "end") == "2026-06-10"


@pytest.mark.django_db
def test_release_form_shows_its_planned_day():
    from boards.forms import ReleaseCreateForm

    form = ReleaseCreateForm(initial={"planned_for": DAY})
    assert _value(str(form["planned_for"]), "planned_for") == "2026-05-12"


@pytest.mark.django_db
def test_audit_filter_form_shows_its_days():
    # found by name: the audit log's readers are moving between apps
    found = [c for c in _project_form_classes() if c.__name__ == "AuditFilterForm"]
    assert found
    for audit_filter_form in found:
        form = audit_filter_form(initial={"since": DAY, "until": DAY})
        assert _value(str(form["since"]), "since") == "2026-05-12"
        assert _value(str(form["until"]), "until") == "2026-05-12"


def test_the_project_select_template_writes_what_djangos_writes():
    """templates/django/forms/widgets/select.html inlines Django's option template: the same
    HTML for groups, selected and disabled options, attributes and escaping."""
    from django.forms.renderers import DjangoTemplates, get_default_renderer

    assert "TemplatesSetting" in type(get_default_renderer()).__name__
    choices = [
        ("", "---------"),
        ("Teams", [(1, "Tier 1 <desk>"), (2, 'Tier "2"')]),
        (3, "Developers & co"),
    ]
    for widget in (
        forms.Select(choices=choices, attrs={"class": "wide", "aria-describedby": "hint", "required": True}),
        forms.SelectMultiple(choices=choices, attrs={"disabled": False}),
    ):
        for value in ("", 2, [1, 3], None):
            ours = widget.render("team", value, attrs={"id": "id_team"})
            django = widget.render("team", value, attrs={"id": "id_team"}, renderer=DjangoTemplates())
            assert ours == django, (value, ours, django)


def test_the_select_options_tag_writes_what_djangos_writes_for_any_option():
    """tracker.templatetags.form_options: lazy, safe and numeric labels, model choices, and
    option attributes that are True, False, numbers or need escaping."""
    from django.forms.renderers import DjangoTemplates
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from accounts.models import User

    class Flagged(forms.Select):
        def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
            option = super().create_option(name, value, label, selected, index, subindex, attrs)
            option["attrs"].update(
                {"data-n": index, "data-q": 'a "b" <c>', "hidden": index == 1, "inert": False}
            )
            return option

    choices = [
        (None, gettext_lazy("Anyone")),
        (7, mark_safe("<b>Bold</b>")),
        ("x&y", 12),
        ("G <1>", [(1.5, "half")]),
    ]
    for widget in (Flagged(choices=choices), forms.Select(choices=choices)):
        for value in (None, 7, "x&y", 1.5):
            ours = widget.render("pick", value)
            django = widget.render("pick", value, renderer=DjangoTemplates())
            assert ours == django, (value, ours, django)

    field = forms.ModelChoiceField(queryset=User.objects.none(), empty_label="— nobody —")
    assert field.widget.render("who", None) == field.widget.render("who", None, renderer=DjangoTemplates())
