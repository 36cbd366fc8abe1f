"""Sprint factories. For behaviour (availability rows, rotation) use sprints.services."""

from datetime import date, timedelta

import factory

from sprints.models import Sprint, SprintMember
from tests.factories import DevTeamFactory

MONDAY = date(2026, 3, 2)


class SprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sprint

    team = factory.SubFactory(DevTeamFactory)
    name = factory.Sequence(lambda n: f"Sprint {n}")
    start = MONDAY
    end = factory.LazyAttribute(lambda s: s.start + timedelta(days=11))


class SprintMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SprintMember

    sprint = factory.SubFactory(SprintFactory)
