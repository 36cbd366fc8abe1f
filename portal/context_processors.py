from django.utils import timezone

from .permissions import portal_contact


def portal(request):
    """The signed-in contact and their zone, for the portal's own base template."""
    if not request.path_info.startswith("/portal/"):
        return {}
    contact = portal_contact(getattr(request, "user", None))
    return {
        "portal_contact": contact,
        "portal_user": request.user if contact is not None else None,
        "viewer_zone": timezone.get_current_timezone_name(),
    }
