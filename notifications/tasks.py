from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def notifications_email(notification_ids):
    """E-mail the given notifications; each is claimed before sending, so a re-run is harmless."""
    return services.notifications_send_email(notification_ids)


@shared_task(ignore_result=True)
def notifications_email_pending():
    """Beat: send e-mails whose after-commit task never ran (broker down at the time)."""
    return services.notifications_send_email(services.stale_pending_email_ids())
