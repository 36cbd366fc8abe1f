# The GIN index of a card's words, on PostgreSQL only (SQLite, the embedded default, has no
# such index and the global search matches words more simply there). The expression is the
# one search.selectors._cards searches by (card_search_vector, frozen here as written then):
# a query whose vector differs would not use it, which tests/search/test_api.py watches.

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

NAME = "card_search_vector"


def _index():
    vector = SearchVector("key", "title", weight="A", config="english") + SearchVector(
        "description", weight="B", config="english"
    )
    return GinIndex(vector, name=NAME)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("boards", "Card"), _index())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [
        ("boards", "0006_forecast_curves_only"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
