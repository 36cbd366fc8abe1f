"""iso_instants writes what DRF's DateTimeField writes, in the viewer's zone."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from rest_framework import serializers

from tracker.api.datetimes import iso_instants

INSTANTS = [
    dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC),  # before Europe's spring change
    dt.datetime(2026, 3, 29, 1, 30, 15, 250000, tzinfo=dt.UTC),  # after it
    dt.datetime(2026, 10, 25, 0, 59, 59, tzinfo=zoneinfo.ZoneInfo("UTC")),
    dt.datetime(2026, 10, 25, 3, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
    dt.datetime(2026, 12, 3, 9, 0, tzinfo=timezone.get_fixed_timezone(-300)),
]


@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_each_instant_as_the_serializer_field_writes_it(zone):
    field = serializers.DateTimeField()
    if zone:
        timezone.activate(zoneinfo.ZoneInfo(zone))
    try:
        iso = iso_instants()
        assert [iso(value) for value in INSTANTS] == [field.to_representation(value) for value in INSTANTS]
        assert iso(None) is None
    finally:
        timezone.deactivate()
