from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from org.models import Customer, Service, Team


@extend_schema_field({"anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}]})
class OptionalEmailField(serializers.EmailField):
    """An address, or "" for none (the schema says so: "" is not a valid `email` format)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)


class TeamSerializer(serializers.ModelSerializer):
    email = OptionalEmailField()
    members = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.all(), required=False)

    class Meta:
        model = Team
        fields = [
            "id", "name", "tier", "is_development", "lead", "email", "members", "capacity_unit",
            "sprint_length_days", "support_allocation_percent", "support_model", "default_estimates",
            "auto_resolve_on_done",
        ]  # fmt: skip

    def validate(self, attrs):
        is_dev = attrs.get("is_development", getattr(self.instance, "is_development", False))
        tier = attrs.get("tier", getattr(self.instance, "tier", 1))
        if is_dev and tier != 3:
            raise serializers.ValidationError({"tier": ["Development teams are tier-3 teams."]})
        estimates = attrs.get("default_estimates")
        if estimates is not None and (
            not isinstance(estimates, dict)
            or not all(
                k in {"P1", "P2", "P3", "P4", "P5"} and isinstance(v, int | float) and v >= 0
                for k, v in estimates.items()
            )
        ):
            raise serializers.ValidationError(
                {"default_estimates": ['Give a non-negative number per priority, e.g. {"P1": 5}.']}
            )
        return attrs


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "team", "support_team", "support_model"]

    def validate_team(self, team):
        if team is not None and not team.is_development:
            raise serializers.ValidationError("The owning team must be a development team.")
        return team

    def validate_support_team(self, team):
        if team.is_development and team.tier != 3:
            raise serializers.ValidationError("Choose a support group.")
        return team


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "country"]

    def validate_country(self, value):
        if value and (len(value) != 2 or not value.isalpha()):
            raise serializers.ValidationError("Use a two-letter ISO 3166 code, e.g. GB.")
        return value.upper()
