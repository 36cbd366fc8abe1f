"""Input parsing for the boards API. Output is built by boards.selectors (values-based)."""

from rest_framework import serializers

from boards.models import CardType, ClassOfService, ColumnCategory, LaneKind


class ColumnInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    category = serializers.ChoiceField(choices=ColumnCategory.choices)
    wip_min = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    wip_max = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class LaneInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=LaneKind.choices, default=LaneKind.STANDARD)


class BoardCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    key_prefix = serializers.RegexField(r"^[A-Z][A-Z0-9]{0,9}$", required=False, default="DEV")
    teams = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    columns = ColumnInSerializer(many=True)
    lanes = LaneInSerializer(many=True)


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


class CardMoveSerializer(serializers.Serializer):
    column = serializers.IntegerField()
    lane = serializers.IntegerField(required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    override_reason = ReasonRefField(required=False, allow_null=True)


class CardPullSerializer(serializers.Serializer):
    override_reason = ReasonRefField(required=False, allow_null=True)


class CardBlockSerializer(serializers.Serializer):
    reason = ReasonRefField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseCreateSerializer(serializers.Serializer):
    board = serializers.IntegerField()
    name = serializers.CharField(max_length=60)
    planned_for = serializers.DateField(required=False, allow_null=True)


class CardCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
