"""The portal fence: a contact's account reaches only the portal.

One central guard rather than a check in every staff view: after authentication, a request
by a portal account (org.Contact.user) to anything outside the portal's pages and API is
refused — 403 JSON for the API, the portal's own 403 page for a page ("/" sends them home to
the portal). Token callers are fenced by portal.authentication. Staff permissions need not
know portal accounts exist; a staff endpoint added tomorrow is fenced too.
"""

from django.http import JsonResponse
from django.shortcuts import redirect, render

from org.permissions import portal_contact_of

PORTAL_API_PREFIXES = ("/api/v1/portal/",)
# What a portal account may reach besides the portal: sign-in and sign-out, static files,
# the health check, the token endpoint (they sign in there with their e-mail).
ALLOWED_PREFIXES = (
    "/portal/",
    *PORTAL_API_PREFIXES,
    "/api/v1/auth/token/",
    "/accounts/login/",
    "/accounts/logout/",
    "/static/",
    "/healthz",
    "/favicon.ico",
)


class PortalFenceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        user = getattr(request, "user", None)
        if not path.startswith(ALLOWED_PREFIXES) and portal_contact_of(user) is not None:
            if path == "/":
                return redirect("portal:home")
            if path.startswith("/api/"):
                return JsonResponse({"detail": "Portal accounts use /api/v1/portal/ only."}, status=403)
            return render(request, "portal/403.html", status=403)
        return self.get_response(request)
