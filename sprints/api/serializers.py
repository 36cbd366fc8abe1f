from rest_framework import serializers

from accounts.models import User
from boards.models import Board
from org.models import Team

from ..models import ScopeChange, Sprint, SprintCarryOver, SprintMember


class NumberField(serializers.DecimalField):
    """Decimals as JSON numbers, as the contract asks."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 8)
        kwargs.setdefault("decimal_places", 1)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else float(value)


class SprintSerializer(serializers.ModelSerializer):
    committed = NumberField(read_only=True, allow_null=True)
    capacity_at_start = NumberField(read_only=True, allow_null=True)
    velocity = NumberField(read_only=True, allow_null=True)

    class Meta:
        model = Sprint
        fields = [
            "id", "team", "name", "goal", "start", "end", "state", "board", "support_member",
            "committed", "capacity_at_start", "velocity", "started_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields


class SprintCreateSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    name = serializers.CharField(max_length=100)
    goal = serializers.CharField(required=False, allow_blank=True, default="")
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None)
    board = serializers.PrimaryKeyRelatedField(queryset=Board.objects.all(), required=False, allow_null=True)
    support_member = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )


class SprintUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    goal = serializers.CharField(required=False, allow_blank=True)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    board = serializers.PrimaryKeyRelatedField(queryset=Board.objects.all(), required=False, allow_null=True)
    support_member = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )


class ConfirmSerializer(serializers.Serializer):
    """Risky starts and closes (early, over capacity) need an explicit yes: `confirm` (or
    its alias `force`) true; without it they answer 409 confirmation_required."""

    confirm = serializers.BooleanField(required=False, default=False)
    force = serializers.BooleanField(required=False, default=False, help_text="Alias of confirm.")

    def validate(self, attrs):
        attrs["confirm"] = attrs.get("confirm", False) or attrs.pop("force", False)
        attrs.pop("force", None)
        return attrs


class SprintStartSerializer(ConfirmSerializer):
    pass


class SprintCloseSerializer(ConfirmSerializer):
    carry_over_to = serializers.PrimaryKeyRelatedField(
        queryset=Sprint.objects.all(), required=False, allow_null=True, default=None
    )


class CarryOverSerializer(serializers.ModelSerializer):
    """An unfinished card of a closed sprint and where it went."""

    card_key = serializers.CharField(source="card.key", read_only=True)
    card_title = serializers.CharField(source="card.title", read_only=True)
    to_sprint_name = serializers.CharField(
        source="to_sprint.name", read_only=True, allow_null=True, default=None
    )
    destination = serializers.ChoiceField(choices=["sprint", "backlog"], read_only=True)
    estimate = NumberField(max_digits=6, read_only=True, allow_null=True)

    class Meta:
        model = SprintCarryOver
        fields = [
            "card", "card_key", "card_title", "estimate", "column_name", "destination", "to_sprint",
            "to_sprint_name", "at",
        ]  # fmt: skip
        read_only_fields = fields


class SprintDetailSerializer(SprintSerializer):
    carried_over = CarryOverSerializer(source="carry_overs", many=True, read_only=True)

    class Meta(SprintSerializer.Meta):
        fields = [*SprintSerializer.Meta.fields, "carried_over"]
        read_only_fields = fields


class RotationSerializer(serializers.Serializer):
    members = serializers.ListField(
        child=serializers.IntegerField(), help_text="User ids of the team's members, in rotation order."
    )


class ScopeChangeSerializer(serializers.ModelSerializer):
    estimate_delta = NumberField(read_only=True)
    card_key = serializers.CharField(source="card.key", read_only=True)

    class Meta:
        model = ScopeChange
        fields = ["id", "at", "actor", "card", "card_key", "change", "source", "reason", "estimate_delta"]
        read_only_fields = fields


class SprintMemberSerializer(serializers.ModelSerializer):
    days_off = NumberField(max_digits=4)
    hours_per_day = NumberField(max_digits=4)
    focus_factor = NumberField(max_digits=3, decimal_places=2)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = SprintMember
        fields = ["id", "sprint", "user", "username", "days_off", "hours_per_day", "focus_factor"]
        read_only_fields = ["id", "sprint", "user", "username"]


class SprintMemberUpdateSerializer(serializers.Serializer):
    days_off = serializers.DecimalField(max_digits=4, decimal_places=1, required=False)
    hours_per_day = serializers.DecimalField(max_digits=4, decimal_places=1, required=False)
    focus_factor = serializers.DecimalField(max_digits=3, decimal_places=2, required=False)
