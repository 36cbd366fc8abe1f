import zoneinfo

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.utils import timezone


class BrowserLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a login; anonymous browsers are sent to the login page.

    The API answers anonymous callers with 401/403 itself (DRF's IsAuthenticated), so a
    client never receives an HTML redirect instead of JSON.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request, view_func):
        if request.headers.get("HX-Request"):
            # A fragment refresh after the session ended: send the whole page to the login
            # form (and back afterwards) instead of swapping the form into the fragment.
            page = request.headers.get("HX-Current-URL") or request.get_full_path()
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(page, self.get_login_url(view_func))["Location"]
            return response
        return super().handle_no_permission(request, view_func)


class ViewerTimezoneMiddleware:
    """Show every time in the viewer's own zone (stored on the user, UTC in the database)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tzname = getattr(getattr(request, "user", None), "time_zone", "") or ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tzname)) if tzname else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
