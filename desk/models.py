"""The desk's saved views: a named set of the queue's filters, personal or shared with a team."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class SavedView(models.Model):
    """A queue view a person saved: the queue's filter parameters (and its sort and tab) under a
    name. Personal (no team) or shared with a team, whose members then see it."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    # A team that goes away leaves the view with its owner, personal again.
    team = models.ForeignKey(
        "org.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="saved_views",
        help_text="Shared with this team's members; empty for a personal view.",
    )
    # {"status": "open", "customer": "3", "created_from": "2026-12-01", "sort": "sla", ...}:
    # the queue's query parameters, as strings, checked by desk.services.
    query = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="desk_saved_view_name_unique_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.team_id is not None
