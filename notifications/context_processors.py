from django.utils.functional import SimpleLazyObject

from .models import Notification


def bell(request):
    """Unread count for the bell, queried only when a page actually shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread():
        return Notification.objects.filter(recipient=user, read_at__isnull=True).count()

    return {"notifications_unread": SimpleLazyObject(unread)}
