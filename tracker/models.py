from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


class KeySequence(models.Model):
    """Counters behind human keys (INC-1042, REQ-77, DEV-311, CR-12).

    The increment is one UPDATE, so concurrent creators never receive the same number.
    """

    name = models.CharField(max_length=20, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}: {self.last_value}"


def next_number(name: str) -> int:
    """The next value of the counter `name`, made on first use: one upsert statement
    (PostgreSQL and SQLite ≥ 3.35 both take INSERT … ON CONFLICT … RETURNING), whose row
    lock orders concurrent creators."""
    table = connection.ops.quote_name(KeySequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, last_value) VALUES (%s, 1) ON CONFLICT (name) "  # noqa: S608 - our own table
            f"DO UPDATE SET last_value = {table}.last_value + 1 RETURNING last_value",
            [name],
        )
        return int(cursor.fetchone()[0])


class IdempotentRequest(models.Model):
    """A create sent with an `Idempotency-Key` header, and the response it got: the same
    key sent again (a client retrying after a timeout) gets that response back instead of a
    second record. Kept a day (IDEMPOTENCY_KEEP_HOURS)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.user_id} {self.key}"


class Heartbeat(models.Model):
    """When a periodic job last finished (the SLA sweep, the mail poll), written by the job
    itself so /healthz and /metrics can tell a stalled beat or worker from a quiet system.
    One row per job, upserted in one statement."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
