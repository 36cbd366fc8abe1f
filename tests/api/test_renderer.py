"""The API's orjson renderer writes what DRF's JSONRenderer writes (tracker.api.renderers)."""

import datetime as dt
import uuid
from collections import OrderedDict
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from tracker.api.renderers import JSONRenderer

UTC_NOON = dt.datetime(2026, 3, 29, 12, 0, 5, 123456, tzinfo=dt.UTC)

VALUES = [
    {"a": 1, "b": [1.5, None, True, False], "nested": OrderedDict([("z", 1), ("a", 2)])},
    {"instant": UTC_NOON, "day": dt.date(2026, 3, 29), "time": dt.time(9, 30), "span": dt.timedelta(hours=2)},
    {"zoned": UTC_NOON.astimezone(timezone.get_fixed_timezone(120))},
    {"naive": dt.datetime(2026, 1, 1, 8, 0)},  # noqa: DTZ001 - DRF writes naive instants too
    {"money": Decimal("12.30"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("Open"), 7: "an integer key"},
    {"text": 'Zoë – “quoted” \u2028 line \u2029 paragraph </script> \\ " \n\t'},
    ReturnList([ReturnDict({"x": 1}, serializer=None)], serializer=None),
    [],
    "just a string",
]


@pytest.mark.parametrize("data", VALUES)
def test_writes_the_bytes_drf_writes(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_pretty_printing_and_values_beyond_orjson_go_to_drf():
    data = {"big": 2**70, "list": [1, 2]}
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)
    pretty = JSONRenderer().render({"a": [1]}, "application/json; indent=4")
    assert pretty == renderers.JSONRenderer().render({"a": [1]}, "application/json; indent=4")
    assert b"\n    " in pretty


def test_an_unknown_type_is_refused_as_drf_refuses_it():
    with pytest.raises(TypeError):
        renderers.JSONRenderer().render({"x": object()})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})


@pytest.mark.django_db
def test_the_api_answers_through_it(api, desk_user):
    api.as_user(desk_user)
    response = api.get("/api/v1/incidents/")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
