"""How incident reads show the fix forecast: the boards app's side of
incidents.hooks.FixForecasts, registered in BoardsConfig.ready(). Incidents never import
boards; the incident API and pages ask this module through the port."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import Field

from incidents.hooks import FIX_FORECASTS_CONTEXT

from .api.serializers import FixForecastOutSerializer
from .forecasting import FixForecast, incident_fix_forecasts


def for_incidents(incident_ids: list[int]) -> dict[int, FixForecast | None]:
    """{incident id: FixForecast or None} for every id: two queries while boards are unchanged."""
    return incident_fix_forecasts(incident_ids)


@extend_schema_field(FixForecastOutSerializer(allow_null=True))
class IncidentFixForecastField(serializers.Field):  # type: ignore[type-arg]
    """The incident API's `fix_forecast`: from the page's forecasts in the serializer
    context (the incident list reads them at once), else read for this one incident."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        page = self.context.get(FIX_FORECASTS_CONTEXT)
        if page is None or value.pk not in page:
            forecast = for_incidents([value.pk])[value.pk]
        else:
            forecast = page[value.pk]
        return None if forecast is None else forecast.as_dict()


def incident_api_field() -> Field[Any, Any, Any, Any]:
    return IncidentFixForecastField(
        help_text="When the fix is likely done (the linked open card's forecast); null when no card is open."
    )
