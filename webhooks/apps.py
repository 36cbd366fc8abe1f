from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self):
        # /metrics: the delivery queue and the failures (tracker owns the list of sources).
        from tracker import metrics

        from .metrics import webhook_gauges

        metrics.gauge_sources.append(webhook_gauges)
