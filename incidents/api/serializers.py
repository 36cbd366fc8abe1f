"""Shapes of the incident API (SPEC Appendix A). Input serializers only parse and type-check;
the rules live in incidents.services."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from accounts.models import User
from org.models import Contact, Customer, Service, Team
from tracker.api.datetimes import iso_instants

from ..hooks import FIX_FORECASTS_CONTEXT, clock_reads, fix_forecasts
from ..models import (
    Comment,
    HoldReason,
    Incident,
    IncidentEvent,
    IncidentType,
    Level,
    Priority,
    ResolutionCode,
    Status,
    TimeEntry,
)

# Cards and releases are the boards app's (related_objects).
from ..selectors import incident_page_reads, related_objects

UserRefSerializer = inline_serializer(
    "UserRef",
    {"id": serializers.IntegerField(), "username": serializers.CharField(), "name": serializers.CharField()},
    allow_null=True,
)


class LinkedCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="card.id")
    key = serializers.CharField(source="card.key")
    title = serializers.CharField(source="card.title")
    column = serializers.CharField(source="card.column.name")
    column_category = serializers.CharField(source="card.column.category")
    assignee = serializers.SerializerMethodField()

    @extend_schema_field(UserRefSerializer)
    def get_assignee(self, link):
        user = link.card.assignee
        return None if user is None else {"id": user.pk, "username": user.username, "name": user.display_name}


def _user(user):
    return None if user is None else user.pk


class IncidentListSerializer(serializers.ListSerializer):
    """A page of incidents, the lean read path (issue 19): the same rows IncidentSerializer
    gives one incident, built as plain dicts from the page's own columns and what
    incident_page_reads fetched for the whole page by id (names, links, copies, cards), with
    the SLA clocks read for the page as values (the SLA app's, through the port) and the fix
    forecasts (the boards app's) read at once for the incidents with a card and shared
    through the context, never per row. Running DRF's field machinery per row (and even
    building the child's fields, a deep copy per request) cost more than the queries;
    tests/incidents/test_hot_paths.py holds the two outputs equal. The rows are the list's
    plain rows (incident_rows), not model instances."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        reads = incident_page_reads(rows)
        if FIX_FORECASTS_CONTEXT not in self.context:
            # Only an incident with a linked card can have a forecast (None for the others).
            linked = [r["id"] for r in rows if r["id"] in reads.cards]
            self.context[FIX_FORECASTS_CONTEXT] = fix_forecasts().for_incidents(linked) if linked else {}
        forecasts = self.context[FIX_FORECASTS_CONTEXT]
        when = iso_instants()
        now = self.context.setdefault("now", timezone.now())
        clocks = clock_reads().page_clocks([r["id"] for r in rows], now=now, iso=when)

        def forecast(pk):
            found = forecasts.get(pk)
            return None if found is None else found.as_dict()

        return [
            {
                "id": (pk := i["id"]),
                "key": i["key"],
                "type": i["type"],
                "title": i["title"],
                "description": i["description"],
                "service": i["service_id"],
                "service_name": reads.service_names[pk],
                "customer": i["customer_id"],
                "reporter": i["reporter_id"],
                "contact": i["contact"],
                "impact": i["impact"],
                "urgency": i["urgency"],
                "priority": i["priority"],
                "priority_override_reason": i["priority_override_reason"],
                "status": i["status"],
                "hold_reason": i["hold_reason"],
                "resolution_code": i["resolution_code"],
                "resolution_note": i["resolution_note"],
                "cancel_reason": i["cancel_reason"],
                "tier": i["tier"],
                "team": i["team_id"],
                "team_name": reads.team_names[pk],
                "assignee": i["assignee_id"],
                "assignee_name": reads.user_names.get(pk),
                "participants": reads.participants.get(pk, []),
                "is_major": i["is_major"],
                "major_declared_at": when(i["major_declared_at"]),
                "parent": reads.parent_keys.get(pk),
                "caused_by_card": i["caused_by_card_id"],
                "caused_by_release": i["caused_by_release_id"],
                "created_at": when(i["created_at"]),
                "updated_at": when(i["updated_at"]),
                "responded_at": when(i["responded_at"]),
                "resolved_at": when(i["resolved_at"]),
                "closed_at": when(i["closed_at"]),
                "version": i["version"],
                "sla_due_at": when(i["sla_due_at"]),
                "sla": clocks[pk],
                "cards": reads.cards.get(pk, []),
                "requester": i["requester_id"],
                "cc": reads.cc.get(pk, []),
                "fix_forecast": forecast(pk),
                "problem": reads.problems.get(pk),
            }  # fmt: skip
            for i in rows
        ]


class IncidentSerializer(serializers.ModelSerializer):
    # The clocks are the SLA app's: it gives the field (get_fields, incidents.hooks.clock_reads).
    sla = serializers.ReadOnlyField()
    # The fix forecast is the boards app's: it gives the field (incidents.hooks.fix_forecasts).
    fix_forecast = serializers.ReadOnlyField()
    cards = LinkedCardSerializer(source="card_links", many=True, read_only=True)
    participants = serializers.SerializerMethodField()
    cc = serializers.SerializerMethodField(help_text="Contacts copied on the incident's mail.")
    problem = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="service.name", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]  # a field named parent (the metaclass moves it off the class)
    sla_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    # "" until set: declared so the schema allows the blank value next to the choices.
    hold_reason = serializers.ChoiceField(choices=HoldReason.choices, allow_blank=True, read_only=True)
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Incident
        fields = [
            "id", "key", "type", "title", "description", "service", "service_name", "customer", "reporter",
            "contact", "impact", "urgency", "priority", "priority_override_reason", "status", "hold_reason",
            "resolution_code", "resolution_note", "cancel_reason", "tier", "team", "team_name", "assignee",
            "assignee_name", "participants", "is_major", "major_declared_at", "parent", "caused_by_card",
            "caused_by_release", "created_at", "updated_at", "responded_at", "resolved_at", "closed_at",
            "version", "sla_due_at", "sla", "cards", "requester", "cc", "fix_forecast", "problem",
        ]  # fmt: skip
        read_only_fields = fields
        list_serializer_class = IncidentListSerializer

    @extend_schema_field(
        serializers.IntegerField(allow_null=True, help_text="The problem (id) it belongs to.")
    )
    def get_problem(self, incident):
        # The problems app's link row, joined by incident_list (incidents never import it).
        link = getattr(incident, "problem_link", None)
        return link.problem_id if link is not None else None

    def get_cc(self, incident) -> list[int]:
        return [c.pk for c in incident.cc.all()]

    def get_fields(self):
        fields = super().get_fields()
        # One timer serializer for the whole list (a ModelSerializer per row costs more than
        # the rows themselves), sharing the context's "now".
        fields["sla"] = clock_reads().incident_api_field()
        fields["fix_forecast"] = fix_forecasts().incident_api_field()
        return fields

    def get_participants(self, incident) -> list[int]:
        return [u.pk for u in incident.participants.all()]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee_name(self, incident):
        return incident.assignee.display_name if incident.assignee else None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="The parent incident's key."))
    def get_parent(self, incident):
        return incident.parent.key if incident.parent_id else None


class IncidentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.select_related("support_team"))
    impact = serializers.ChoiceField(choices=Level.choices)
    urgency = serializers.ChoiceField(choices=Level.choices)
    type = serializers.ChoiceField(choices=IncidentType.choices, default=IncidentType.INCIDENT)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    requester = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.select_related("customer"), required=False, allow_null=True
    )
    cc = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), many=True, required=False)


class IncidentUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False)
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    type = serializers.ChoiceField(choices=IncidentType.choices, required=False)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    version = serializers.IntegerField(required=False, min_value=1)


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)


class TransitionSerializer(VersionedSerializer):
    status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    resolution_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    # What each target needs (a hold reason, a resolution code and note, a cancel reason) is
    # checked by incidents.services.incident_transition, for the browser and the API alike.


class CommentInSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    public = serializers.BooleanField(default=False)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    delivery = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id", "body", "public", "is_system", "author", "contact", "via", "created_at", "attachments",
            "delivery", "delivery_error",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "sent", "failed"], allow_null=True))
    def get_delivery(self, comment):
        return comment.delivery or None

    def get_attachments(self, comment) -> list[int]:
        return [a.pk for a in comment.attachments.all()]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_author(self, comment):
        return _user(comment.author)


class TimeInSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class TimeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeEntry
        fields = ["id", "user", "minutes", "note", "created_at"]


class EscalateSerializer(VersionedSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    note = serializers.CharField(max_length=10000)


class AssignSerializer(VersionedSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True
    )


class PrioritySerializer(VersionedSerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = serializers.CharField(max_length=2000)


class DeclareMajorSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class MergeSerializer(serializers.Serializer):
    parent = serializers.SlugRelatedField(slug_field="key", queryset=Incident.objects.all())  # type: ignore[assignment]  # a field named parent (the metaclass moves it off the class)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)

    def to_internal_value(self, data):
        # Accept the parent's id as well as its key.
        if (
            isinstance(data, dict)
            and isinstance(data.get("parent"), int)
            and not isinstance(data["parent"], bool)
        ):
            found = Incident.objects.filter(pk=data["parent"]).values_list("key", flat=True).first()
            data = {**data, "parent": found or f"#{data['parent']}"}
        return super().to_internal_value(data)


class LinkCauseSerializer(serializers.Serializer):
    card = serializers.PrimaryKeyRelatedField(
        queryset=related_objects("caused_by_card").all(), required=False, allow_null=True
    )
    release = serializers.PrimaryKeyRelatedField(
        queryset=related_objects("caused_by_release").all(), required=False, allow_null=True
    )


class HistorySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = IncidentEvent
        fields = ["id", "at", "actor", "actor_name", "event", "field", "old", "new", "note"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_actor(self, event):
        return _user(event.actor)

    def get_actor_name(self, event) -> str:
        return event.actor.display_name if event.actor else "Tandem"
