# Trigram (pg_trgm) indexes for the names search matches by word similarity: customers,
# contacts (name and address) and users (first, last and user name). PostgreSQL only; the
# tables belong to org and accounts, the indexes to the search that reads them.

from django.db import migrations

INDEXES = {
    "search_customer_name_trgm": ("org_customer", "name"),
    "search_contact_name_trgm": ("org_contact", "name"),
    "search_contact_email_trgm": ("org_contact", "email"),
    "search_user_first_name_trgm": ("accounts_user", "first_name"),
    "search_user_last_name_trgm": ("accounts_user", "last_name"),
    "search_user_username_trgm": ("accounts_user", "username"),
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("incidents", "0010_search_indexes"),
        ("org", "0002_contacts"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
