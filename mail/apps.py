from django.apps import AppConfig


class MailConfig(AppConfig):
    """The customer channel's mail: mailboxes, outbound replies, inbound polling, the log.

    Mail builds on incidents and never the other way round: it subscribes to the moments
    incidents names (incidents/hooks.py) here, once, at start-up."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "mail"
    label = "mail"

    def ready(self):
        from incidents import hooks
        from tracker import metrics

        from . import outbound
        from .metrics import mail_gauges

        hooks.comment_added.append(outbound.mail_on_comment_added)
        hooks.incident_created.append(outbound.mail_on_incident_created)
        hooks.incident_changed.append(outbound.mail_on_incident_changed)
        metrics.gauge_sources.append(mail_gauges)  # /metrics: mail failures
