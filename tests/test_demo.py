"""The whole demo organisation loads through the services, tells its story, and is idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from boards.models import Card
from changes.models import ChangeRequest
from escalation.models import Escalation
from incidents.models import Incident
from knowledge.models import Article
from problems.models import Problem
from sprints.models import Sprint

pytestmark = pytest.mark.django_db


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Incident, Card, Sprint, ChangeRequest, Escalation, Article, Problem)
    }


def test_seed_demo_builds_every_area_and_runs_twice_without_changes():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    assert first["Incident"] >= 30 and first["Card"] >= 60 and first["Sprint"] >= 4
    assert first["ChangeRequest"] >= 5 and first["Escalation"] >= 4
    assert ChangeRequest.objects.filter(status="submitted", incidents__isnull=False).exists()
    assert Escalation.objects.filter(returned_at__isnull=True).exists()  # some still with development
    assert Escalation.objects.filter(returned_at__isnull=False).exists()  # some fixed and back
    assert Article.objects.filter(visibility="public").count() >= 3  # the portal suggests them
    assert Article.objects.filter(visibility="internal").exists()
    assert Article.objects.filter(version__gt=1).exists()  # a history to read
    known = Problem.objects.get(status="known_error")  # offered to the desk for similar incidents
    assert known.incidents.count() >= 2 and known.workaround
    assert "demo data ready" in out.getvalue()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    logins = StringIO()
    call_command("seed_demo", "--logins-only", stdout=logins)
    assert "paula" in logins.getvalue() and "tandem-demo" in logins.getvalue()
