"""The configuration audit log (SPEC §16): who changed which setting, when, old → new.

Rows are written by the configuration services themselves, in their own transaction
(`audit.services`), so a change and its audit row commit or roll back together, whatever
path made the change. Rows are never updated or deleted by the application.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"


class AuditEntry(models.Model):
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A stable, public name such as "sla.policy" or "boards.column" (see audit.names).
    model = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    # {field: [old, new]}; a created row has old None, a deleted row new None.
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_at"),
            models.Index(fields=["model", "object_id", "-at"], name="audit_object"),
            models.Index(fields=["actor", "-at"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.object_id} {self.action} at {self.at:%Y-%m-%d %H:%M}"
