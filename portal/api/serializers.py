"""The portal API's shapes (SPEC Appendix B): what a customer may read, nothing more — no
internal note, no staff assignment, no team."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Attachment, Comment, Incident, IncidentType
from org.models import Service

from .. import selectors


class PortalAttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "created_at", "download_url"]

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/portal/attachments/{attachment.pk}/download/"


class PortalCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField(
        help_text="The contact who wrote it, or the support agent."
    )
    from_customer = serializers.SerializerMethodField()
    attachments = PortalAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "body", "author_name", "from_customer", "via", "created_at", "attachments"]

    def get_author_name(self, comment) -> str:
        if comment.contact_id:
            return comment.contact.name
        if comment.is_system or comment.author_id is None:
            return "Support"
        return comment.author.display_name

    def get_from_customer(self, comment) -> bool:
        return comment.contact_id is not None


def _iso(value):
    return serializers.DateTimeField().to_representation(value) if value else None


class PortalIncidentListSerializer(serializers.ModelSerializer):
    status_text = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="service.name", read_only=True)
    requester_name = serializers.CharField(source="requester.name", read_only=True, default=None)
    response_due_at = serializers.SerializerMethodField()
    resolution_due_at = serializers.SerializerMethodField()
    fix_forecast = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id", "key", "title", "type", "status", "status_text", "service", "service_name",
            "requester_name", "created_at", "resolved_at", "response_due_at", "resolution_due_at",
            "fix_forecast",
        ]  # fmt: skip

    def get_status_text(self, incident) -> str:
        return selectors.plain_status(incident)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_response_due_at(self, incident):
        return _iso(selectors.promise_due(incident, "response"))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_resolution_due_at(self, incident):
        return _iso(selectors.promise_due(incident, "resolution"))

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "While development works on it: {p50, p85 (dates), card, status, release, ...}",
        }
    )
    def get_fix_forecast(self, incident):
        forecast = self.context.get("forecasts", {}).get(incident.pk)
        return forecast.as_dict() if forecast is not None else None


class PortalIncidentSerializer(PortalIncidentListSerializer):
    resolution_code = serializers.CharField(
        read_only=True, help_text="e.g. fixed, workaround; empty while open"
    )
    comments = PortalCommentSerializer(source="public_comments", many=True, read_only=True)
    attachments = PortalAttachmentSerializer(source="visible_files", many=True, read_only=True)
    rating = serializers.SerializerMethodField()

    class Meta(PortalIncidentListSerializer.Meta):
        fields = [
            *PortalIncidentListSerializer.Meta.fields,
            "description",
            "resolution_code",
            "resolution_note",
            "comments",
            "attachments",
            "rating",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "{score, comment, created_at} of the current resolution",
        }
    )
    def get_rating(self, incident):
        rating = self.context.get("rating")
        if rating is None:
            return None
        return {"score": rating.score, "comment": rating.comment, "created_at": rating.created_at.isoformat()}


class PortalIncidentInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    type = serializers.ChoiceField(choices=IncidentType.choices, default=IncidentType.INCIDENT)


class PortalCommentInSerializer(serializers.Serializer):
    body = serializers.CharField()


class RatingInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class RatingSerializer(serializers.Serializer):
    incident = serializers.IntegerField(source="incident_id")
    score = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()
