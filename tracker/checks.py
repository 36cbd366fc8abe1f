"""Deployment checks of Tandem's own settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token_check(app_configs, **kwargs):
    if settings.METRICS_TOKEN:
        return []
    return [
        Warning(
            "METRICS_TOKEN is not set: /metrics is readable by anyone who can reach the web "
            "processes (queue depth, failure counts, request rates).",
            hint="Set METRICS_TOKEN and give Prometheus the same value as a bearer token, "
            "or block /metrics at the proxy.",
            id="tandem.W001",
        )
    ]
