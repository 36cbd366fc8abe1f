"""Domain exceptions raised by services, and the one status rule for a refusal.

Services never know about HTTP; one DRF exception handler (tracker.api.exceptions) and one
form helper (tracker.forms.add_service_error) map these to responses and form errors, both
taking the status code from status_for().
"""

from django.core.exceptions import PermissionDenied, ValidationError


class DomainError(Exception):
    """A request the domain refuses as it stands: reported as 409 Conflict."""

    code = "conflict"

    def __init__(self, detail: object, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = str(detail)
        if code:
            self.code = code


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"


class WipLimitExceeded(DomainError):
    code = "wip_limit_exceeded"


class StaleObject(DomainError):
    """Someone else changed the record since the caller read it."""

    code = "stale_object"


def status_for(exc: BaseException) -> int | None:
    """The HTTP status of a service's refusal, the same for the API and every browser page:
    403 for PermissionDenied, 409 for a DomainError (a refused transition, a WIP limit, a
    stale record, a confirmation the caller has not given), 400 for a ValidationError (bad
    input). None for anything else: not a refusal this rule knows."""
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, DomainError):
        return 409
    if isinstance(exc, ValidationError):
        return 400
    return None
