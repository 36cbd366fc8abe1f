"""Two agents link the same incident to two problems at the same instant: one link wins, the
other is refused with its reason; two problems opened at once get two keys."""

import pytest

from problems.models import Problem, ProblemIncident
from problems.services import problem_create, problem_link_incidents
from tests.threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_incident_joins_one_problem_when_two_link_it_at_once(log_incident, engineer_user, desk_user):
    incident = log_incident()
    first = problem_create(actor=engineer_user, title="First")
    second = problem_create(actor=engineer_user, title="Second")
    results = {}

    def link(problem, actor):
        def call():
            results[problem.pk] = problem_link_incidents(problem=problem, incidents=[incident], actor=actor)

        return call

    assert at_once(link(first, engineer_user), link(second, desk_user)) == ["ok", "ok"]
    assert ProblemIncident.objects.filter(incident=incident).count() == 1
    winner = ProblemIncident.objects.get(incident=incident).problem_id
    loser = first.pk if winner == second.pk else second.pk
    assert [i.pk for i in results[winner].linked] == [incident.pk]
    assert incident.key in results[loser].refused


def test_problems_opened_at_once_get_distinct_keys(engineer_user):
    calls = [lambda n=n: problem_create(actor=engineer_user, title=f"P{n}") for n in range(4)]
    assert at_once(*calls) == ["ok"] * 4
    assert len(set(Problem.objects.values_list("key", flat=True))) == 4
