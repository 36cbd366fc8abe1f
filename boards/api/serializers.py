"""The boards API's input parsing and its response shapes (the one definition of each)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from boards.models import CardType, ClassOfService, ColumnCategory, ForecastStatus, LaneKind, ReasonKind


class ColumnInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    category = serializers.ChoiceField(choices=ColumnCategory.choices)
    wip_min = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    wip_max = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class LaneInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=LaneKind.choices, default=LaneKind.STANDARD)
    wip_max = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Most of the lane's cards in progress at once.",
    )


class BoardPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    teams = serializers.ListField(child=serializers.IntegerField(), required=False)


class ColumnCreateSerializer(ColumnInSerializer):
    board = serializers.IntegerField()
    position = serializers.IntegerField(
        min_value=0, required=False, allow_null=True, help_text="Index among the columns; omitted: last."
    )


class ColumnPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, required=False)
    wip_min = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    wip_max = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class LaneCreateSerializer(LaneInSerializer):
    board = serializers.IntegerField()


class LanePatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, required=False)
    wip_max = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class BoardCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    key_prefix = serializers.RegexField(r"^[A-Z][A-Z0-9]{0,9}$", required=False, default="DEV")
    teams = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    columns = ColumnInSerializer(many=True)
    lanes = LaneInSerializer(many=True)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1}]})
class ReasonRefField(serializers.Field):
    """A reason code given by id or by its code."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or data == "":
            raise serializers.ValidationError("Give a reason code (its id or code).")
        return data

    def to_representation(self, value):
        return value


class CardCreateSerializer(serializers.Serializer):
    board = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(choices=CardType.choices, default=CardType.STORY)
    class_of_service = serializers.ChoiceField(choices=ClassOfService.choices, required=False)
    estimate = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    column = serializers.IntegerField(required=False, allow_null=True)
    lane = serializers.IntegerField(required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    sprint = serializers.IntegerField(required=False, allow_null=True)
    release = serializers.IntegerField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    override_reason = ReasonRefField(required=False, allow_null=True)


class CardPatchSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=CardType.choices, required=False)
    class_of_service = serializers.ChoiceField(choices=ClassOfService.choices, required=False)
    estimate = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    assignee = serializers.IntegerField(required=False, allow_null=True)
    sprint = serializers.IntegerField(required=False, allow_null=True)
    release = serializers.IntegerField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        moved = [f for f in ("column", "lane", "rank") if f in self.initial_data]
        if moved:
            raise serializers.ValidationError(
                {
                    f: ["Cards change column, lane or rank only through POST /api/v1/cards/{id}/move/."]
                    for f in moved
                }
            )
        return attrs


class WipOverrideSerializer(serializers.Serializer):
    """The WIP override every move path shares: a reason code and an optional note."""

    override_reason = ReasonRefField(required=False, allow_null=True)
    override_note = serializers.CharField(
        max_length=250, required=False, allow_blank=True, default="", help_text="Kept with the move."
    )


class CardMoveSerializer(WipOverrideSerializer):
    column = serializers.IntegerField()
    lane = serializers.IntegerField(required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    unblock = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Moving a blocked card to a done column: unblock it with the move (else 409 card_blocked).",
    )


class CardPullSerializer(WipOverrideSerializer):
    pass


class CardBlockSerializer(serializers.Serializer):
    reason = ReasonRefField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseCreateSerializer(serializers.Serializer):
    board = serializers.IntegerField()
    name = serializers.CharField(max_length=60)
    planned_for = serializers.DateField(required=False, allow_null=True)


class CardCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


# ------------------------------------------------------------------ response shapes
# The one definition of each response of the boards API: views return Serializer(x).data
# over the records boards.selectors reads (prefetched, so the query count stays fixed), and
# the board endpoint's database-built JSON takes its keys and columns from the same class.
# Dates and times are handed to the JSON renderer as they are (format=None): UTC, "Z".
class IdListField(serializers.ListField):
    """The ids of a to-many relation, read from its prefetched rows (`attr` of each row)."""

    def __init__(self, *, attr: str = "pk", **kwargs: Any) -> None:
        self.attr = attr
        super().__init__(child=serializers.IntegerField(), **kwargs)

    def to_representation(self, data: Any) -> list[int]:
        rows = data.all() if hasattr(data, "all") else data
        return [getattr(row, self.attr) for row in rows]


def _when(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(format=None, **kwargs)


def _day(**kwargs: Any) -> serializers.DateField:
    return serializers.DateField(format=None, **kwargs)


# ------------------------------------------------------------------ the fix forecast
class ForecastReleaseOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    planned_for = _day(allow_null=True)
    deployed = serializers.BooleanField()


class FixForecastOutSerializer(serializers.Serializer):
    """The `fix_forecast` object (boards.forecasting.FixForecast.as_dict): when the card
    the fix waits for is likely done (SPEC §15)."""

    p50 = _day(allow_null=True, help_text="Done by then with 50 % likelihood (null unless ok).")
    p85 = _day(allow_null=True, help_text="Done by then with 85 % likelihood (null unless ok).")
    card = serializers.IntegerField(help_text="The card the fix waits for (of several, the latest).")
    card_key = serializers.CharField()
    board = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ForecastStatus.choices)
    insufficient_history = serializers.BooleanField(
        help_text="Too few cards of the lane class done lately to forecast: no dates, on purpose."
    )
    computed_on = _day(help_text="The day the forecast starts from.")
    lane_class = serializers.ChoiceField(choices=LaneKind.choices)
    cards_ahead = serializers.IntegerField(help_text="Open cards of the lane class expected to finish first.")
    history_weeks = serializers.IntegerField()
    history_done = serializers.IntegerField(help_text="Cards of the lane class done in those weeks.")
    open_cards = serializers.IntegerField(help_text="The incident's open cards (1 on a card).")
    release = ForecastReleaseOutSerializer(allow_null=True, help_text="The card's release, if it has one.")


@extend_schema_field(FixForecastOutSerializer(allow_null=True))
class FixForecastField(serializers.Field):
    """A read-only `fix_forecast`: a boards.forecasting.FixForecast (or None) as its JSON
    object. On a card, read from the card's `fix_forecast` (boards.selectors.card_api_list
    sets it for the whole list)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return None if value is None else value.as_dict()

    def get_attribute(self, instance: Any) -> Any:
        # A card not read by card_api_list(with_forecast=True) has no forecast attribute.
        return getattr(instance, str(self.source), None)


# Every field of the card shapes but `incidents` and `sla_due_at` is a column of the card,
# so that the database can build the board's JSON (boards.selectors.board_cards_json).
class BoardCardOutSerializer(serializers.Serializer):
    """A card as the board endpoint lists it (the slim shape)."""

    id = serializers.IntegerField()
    key = serializers.CharField()
    board = serializers.IntegerField(source="board_id")
    title = serializers.CharField()
    type = serializers.ChoiceField(choices=CardType.choices)
    class_of_service = serializers.ChoiceField(choices=ClassOfService.choices)
    estimate = serializers.FloatField(allow_null=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    column = serializers.IntegerField(source="column_id")
    lane = serializers.IntegerField(source="lane_id")
    rank = serializers.IntegerField()
    sprint = serializers.IntegerField(source="sprint_id", allow_null=True)
    release = serializers.IntegerField(source="release_id", allow_null=True)
    due_date = _day(allow_null=True)
    blocked = serializers.BooleanField()
    block_reason = serializers.IntegerField(source="block_reason_id", allow_null=True)
    blocked_since = _when(allow_null=True)
    incidents = IdListField(source="incident_links", attr="incident_id")
    sla_due_at = _when(allow_null=True)


# Keys of the card shapes that the database computes rather than reads from a card column.
CARD_COMPUTED = ("incidents", "sla_due_at")


def card_columns(serializer_class: type[serializers.Serializer]) -> dict[str, str]:
    """Output key -> card column of a card shape, for the database-built JSON."""
    fields = serializer_class().fields
    return {name: str(field.source) for name, field in fields.items() if name not in CARD_COMPUTED}


class CardOutSerializer(BoardCardOutSerializer):
    """A card in full (the card endpoints): the board's shape and its text and history."""

    description = serializers.CharField(allow_blank=True)
    block_note = serializers.CharField(allow_blank=True)
    started_at = _when(allow_null=True)
    done_at = _when(allow_null=True)
    created_at = _when()
    incidents = IdListField(source="incident_links", attr="incident_id", help_text="Linked incident ids.")
    sla_due_at = _when(allow_null=True, help_text="Earliest resolution due time of the linked incidents.")
    fix_forecast = FixForecastField(
        help_text="When the card is likely done; null when it is done or cancelled."
    )


class BoardSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    key_prefix = serializers.CharField()
    teams = IdListField()
    card_count = serializers.IntegerField()


class ColumnOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=ColumnCategory.choices)
    wip_min = serializers.IntegerField(allow_null=True)
    wip_max = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField(help_text="Cards in the column now.")


class LaneOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=LaneKind.choices)
    wip_max = serializers.IntegerField(allow_null=True, help_text="Most of its cards in progress at once.")
    in_progress = serializers.IntegerField(help_text="Its cards in in-progress columns now.")


class ColumnDetailOutSerializer(ColumnOutSerializer):
    board = serializers.IntegerField(source="board_id")
    position = serializers.IntegerField()


class LaneDetailOutSerializer(LaneOutSerializer):
    board = serializers.IntegerField(source="board_id")
    position = serializers.IntegerField()


# The board endpoint without its cards (over a boards.selectors.BoardDetail).
class BoardLayoutOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="board.pk")
    name = serializers.CharField(source="board.name")
    key_prefix = serializers.CharField(source="board.key_prefix")
    teams = IdListField(source="board.teams")
    columns = ColumnOutSerializer(many=True)
    lanes = LaneOutSerializer(many=True)


class BoardOutSerializer(BoardLayoutOutSerializer):
    cards = BoardCardOutSerializer(many=True)


class ReleaseOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    board = serializers.IntegerField(source="board_id")
    name = serializers.CharField()
    planned_for = _day(allow_null=True)
    deployed_at = _when(allow_null=True)
    card_count = serializers.IntegerField(allow_null=True)


class ReleaseCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    type = serializers.ChoiceField(choices=CardType.choices)
    done_at = _when(allow_null=True)


class ReleaseDetailOutSerializer(ReleaseOutSerializer):
    cards = ReleaseCardSerializer(many=True)


class ReasonCodeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ReasonKind.choices)
    code = serializers.CharField()
    # An API field named like DRF's Field.label attribute (a field's caption): the checker
    # sees a clash, the serializer declares a field; renaming it would change the API.
    label = serializers.CharField()  # type: ignore[assignment]


class ReasonCodeListSerializer(serializers.Serializer):
    results = ReasonCodeOutSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class CardPageSerializer(serializers.Serializer):
    results = CardOutSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last page.")


class _NumberedPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class BoardPageSerializer(_NumberedPage):
    results = BoardSummarySerializer(many=True)


class ReleasePageSerializer(_NumberedPage):
    results = ReleaseOutSerializer(many=True)
