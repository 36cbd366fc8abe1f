"""Boards factories: a board with the four standard categories and two lanes, and cards."""

import factory
from django.utils import timezone

from boards.models import Board, Card, Column, ColumnCategory, Lane, LaneKind, ReasonCode, ReasonKind, Release

STANDARD_COLUMNS = (
    ("Backlog", ColumnCategory.BACKLOG),
    ("Ready", ColumnCategory.READY),
    ("In progress", ColumnCategory.IN_PROGRESS),
    ("Done", ColumnCategory.DONE),
)
STANDARD_LANES = (("Expedite", LaneKind.EXPEDITE), ("Standard", LaneKind.STANDARD))


class BoardFactory(factory.django.DjangoModelFactory):
    """A board with columns Backlog/Ready/In progress/Done and lanes Expedite/Standard.

    `BoardFactory(wip={"in_progress": (1, 3)})` sets (wip_min, wip_max) per category.
    """

    class Meta:
        model = Board
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Board {n}")
    key_prefix = "DEV"

    @factory.post_generation
    def columns(self, create, extracted, **kwargs):
        if not create:
            return
        wip = kwargs.get("wip") or {}
        for i, (name, category) in enumerate(extracted or STANDARD_COLUMNS):
            wip_min, wip_max = wip.get(category, (None, None))
            Column.objects.create(
                board=self, name=name, category=category, position=i, wip_min=wip_min, wip_max=wip_max
            )

    @factory.post_generation
    def lanes(self, create, extracted, **kwargs):
        if not create:
            return
        for i, (name, kind) in enumerate(extracted or STANDARD_LANES):
            Lane.objects.create(board=self, name=name, kind=kind, position=i)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)


def column_of(board, category):
    return board.columns.filter(category=category).order_by("position").first()


def lane_of(board, kind=LaneKind.STANDARD):
    return board.lanes.filter(kind=kind).order_by("position").first()


class CardFactory(factory.django.DjangoModelFactory):
    """A card placed directly (no move recorded); use boards.services.card_create for
    behaviour. Defaults to the board's backlog column and standard lane."""

    class Meta:
        model = Card

    board = factory.SubFactory(BoardFactory)
    key = factory.Sequence(lambda n: f"TST-{n + 1}")
    title = factory.Sequence(lambda n: f"Card {n}")
    column = factory.LazyAttribute(lambda c: column_of(c.board, ColumnCategory.BACKLOG))
    lane = factory.LazyAttribute(lambda c: lane_of(c.board))
    rank = factory.Sequence(lambda n: n * 1024)
    created_at = factory.LazyFunction(timezone.now)


class ReasonCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReasonCode
        django_get_or_create = ("kind", "code")

    kind = ReasonKind.BLOCK
    code = factory.Sequence(lambda n: f"reason-{n}")
    label = factory.LazyAttribute(lambda r: r.code.replace("-", " ").capitalize())


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    board = factory.SubFactory(BoardFactory)
    name = factory.Sequence(lambda n: f"R{n}")
