from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from org.models import Contact, Customer, Service, Team
from org.services import clean_email_domains, portal_state


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


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "team", "support_team", "support_model"]


class CustomerSerializer(serializers.ModelSerializer):
    email_domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        help_text="Mail from an unknown sender at one of these domains belongs to this customer.",
    )

    class Meta:
        model = Customer
        fields = ["id", "name", "country", "email_domains"]

    def validate_email_domains(self, value):
        try:
            return clean_email_domains(value, customer=self.instance)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["email_domains"]) from None


class ContactSerializer(serializers.ModelSerializer):
    """Read shape; writes go through org.services (see ContactViewSet)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    portal = serializers.SerializerMethodField(
        help_text='Portal access: "active", "disabled", "invited", "expired" or "" (never invited).'
    )

    class Meta:
        model = Contact
        fields = [
            "id", "customer", "customer_name", "name", "email", "phone", "is_customer_admin", "portal",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "customer_name", "portal", "created_at"]

    def get_portal(self, contact) -> str:
        return portal_state(contact)


class InvitationSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact_id")
    state = serializers.CharField(default="invited")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class ContactInSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    is_customer_admin = serializers.BooleanField(required=False, default=False)


class ContactPatchSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False)
    name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    is_customer_admin = serializers.BooleanField(required=False)
