from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer portal: invited contacts sign in, see their (or their company's) incidents,
    log, reply and rate.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"

    def ready(self):
        from mail import hooks as mail_hooks

        from . import links

        mail_hooks.mail_context.append(links.mail_links)
