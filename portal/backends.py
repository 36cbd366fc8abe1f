"""The sign-in backend: Django's ModelBackend, with two portal details.

- The user is loaded with their contact (`portal_contact`, a reverse one-to-one join), so
  the portal fence (portal.middleware) knows a customer's account from a staff one without
  a query of its own on every request.
- A contact signs in with their e-mail address, stored lower-case as the username; typing
  it with capitals still works.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class TandemBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        user = user_model._default_manager.select_related("portal_contact").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and username and "@" in username and username != username.strip().lower():
            user = super().authenticate(
                request, username=username.strip().lower(), password=password, **kwargs
            )
        return user
