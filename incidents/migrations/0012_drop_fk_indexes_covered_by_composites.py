"""The service, team and assignee foreign keys lose their own indexes: the (column, status)
indexes lead with the same columns and serve their lookups, and each index costs every
write of an incident. Only the indexes are dropped (Django's AlterField would drop and add
the foreign-key constraints back, validating every row)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "incidents_incident_assignee_id_34068d21": "assignee_id",
    "incidents_incident_service_id_a8801d6e": "service_id",
    "incidents_incident_team_id_099347d8": "team_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0011_priority_created_index"),
        ("org", "0003_portal_access"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="incident",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_incidents",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="incident",
                    name="service",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="incidents",
                        to="org.service",
                    ),
                ),
                migrations.AlterField(
                    model_name="incident",
                    name="team",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="incidents",
                        to="org.team",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX IF NOT EXISTS {name} ON incidents_incident ({column})",
                )
                for name, column in INDEXES.items()
            ],
        ),
    ]
