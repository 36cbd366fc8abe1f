"""Domain exceptions raised by services.

Services never know about HTTP; one DRF exception handler (tracker.api.exceptions) and one
form helper (tracker.forms) map these to 409/400 responses and form errors.
"""


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
