"""API authentication that keeps portal accounts inside /api/v1/portal/ (see portal.middleware).

Sessions are fenced by the middleware, which sees the session's user before any view; a
token is only read by DRF inside the view, so the token class refuses a portal account on
any other endpoint itself — a 403, whatever permission classes the view declares."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied

from org.permissions import portal_contact_of

from .middleware import PORTAL_API_PREFIXES


class FencedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        token = model.objects.select_related("user", "user__portal_contact").filter(key=key).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and portal_contact_of(result[0]) is not None:
            path = request._request.path_info
            if not path.startswith(PORTAL_API_PREFIXES):
                raise PermissionDenied("Portal accounts use /api/v1/portal/ only.")
        return result
