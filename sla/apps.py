from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"

    def ready(self):
        # Incidents name the moments; the SLA app starts, stops, pauses and retargets clocks.
        from incidents import hooks
        from tracker import metrics

        from . import incident_reads, services
        from .metrics import sla_gauges

        hooks.register_clock_reads(incident_reads)
        hooks.incident_inserting.append(services.sla_on_incident_inserting)
        hooks.incident_created.append(services.sla_on_incident_created)
        hooks.incident_changed.append(services.sla_on_incident_changed)
        hooks.public_reply.append(services.sla_on_public_reply)
        metrics.gauge_sources.append(sla_gauges)  # /metrics: running timers, sweep lag
