# The search vector's GIN index, the key's trigram index (pg_trgm) and the vectors of the
# incidents already there, on PostgreSQL only: SQLite (the embedded default) has neither
# index type and searches with a simpler match (incidents.search).

from django.db import migrations

TABLE = "incidents_incident"
# As incidents.search.VECTOR_SQL when this migration was written (frozen here).
VECTOR_SQL = (
    "setweight(to_tsvector('english', replace(i.key, '-', ' ') || ' ' || i.title), 'A')"
    " || setweight(to_tsvector('english', left(i.description, 100000) || ' ' || i.contact), 'B')"
    " || setweight(to_tsvector('english', coalesce(("
    "SELECT left(string_agg(c.body, ' ' ORDER BY c.id), 200000)"
    " FROM incidents_comment c WHERE c.incident_id = i.id), '')), 'C')"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"UPDATE {TABLE} i SET search_vector = {VECTOR_SQL}")  # noqa: S608
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS incident_search_vector ON {TABLE} USING gin (search_vector)"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS incident_key_trgm ON {TABLE} USING gin (key gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS incident_key_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS incident_search_vector")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_satisfaction"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="incident",
            options={"base_manager_name": "objects", "ordering": ["-created_at"]},
        ),
        migrations.RunPython(forwards, backwards),
    ]
