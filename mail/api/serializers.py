from rest_framework import serializers

from org.models import Customer, Service

from ..models import InboundMessage, Mailbox


class MailboxSerializer(serializers.ModelSerializer):
    imap_url = serializers.SerializerMethodField(help_text="The IMAP address without its password.")

    class Meta:
        model = Mailbox
        fields = [
            "id", "name", "address", "imap_url", "folder", "default_service", "default_customer",
            "acknowledge", "active", "last_polled_at", "last_error",
        ]  # fmt: skip

    def get_imap_url(self, mailbox) -> str:
        return mailbox.imap_url_public


class MailboxInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    address = serializers.EmailField()
    imap_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="imap://user:password@host:port or imaps://…; without a password the stored one is kept.",
    )  # fmt: skip
    folder = serializers.CharField(max_length=200, required=False, default="INBOX")
    default_service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    default_customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True, default=None
    )
    acknowledge = serializers.BooleanField(required=False, default=True)
    active = serializers.BooleanField(required=False, default=True)


class MailboxPatchSerializer(MailboxInSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class MailLogSerializer(serializers.ModelSerializer):
    # "from" is a Python keyword: declared in get_fields.
    class Meta:
        model = InboundMessage
        fields = [
            "id", "mailbox", "message_id", "from_address", "subject", "received_at", "outcome", "incident",
            "comment", "error", "attempts",
        ]  # fmt: skip

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(source="from_address", read_only=True)
        return fields
