from django.utils import timezone

from accounts.roles import role_labels

from .navigation import nav_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": nav_for(user),
        "user_roles": role_labels(user),
        "viewer_timezone": timezone.get_current_timezone_name(),
    }
