"""The browser's one mapping of a service's refusal onto a page.

Every view that calls a service and shows its refusal goes through these helpers: the
messages land next to the field they name (the rest at the top of the form, or in a flash
message for pages that redirect), and the page answers with tracker.exceptions.status_for(exc),
the code the API gives for the same refusal.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from tracker.exceptions import DomainError, status_for


def service_error_messages(exc) -> dict[str | None, list[str]]:
    """A refusal's messages by the field they name (None: the whole request)."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return {
            (None if field == "__all__" else field): [str(m) for m in msgs]
            for field, msgs in exc.message_dict.items()
        }
    if isinstance(exc, ValidationError):
        return {None: [str(m) for m in exc.messages]}
    if isinstance(exc, DomainError):
        return {None: [exc.detail]}
    if isinstance(exc, PermissionDenied):
        return {None: [str(exc) or "You may not do that."]}
    raise exc


def service_error_text(exc) -> str:
    """The refusal as one line (a flash message, a problem listed in a panel)."""
    return "; ".join(
        (" ".join(msgs) if field is None else f"{field}: {' '.join(msgs)}")
        for field, msgs in service_error_messages(exc).items()
    )


def add_service_error(form, exc, *, fields: dict[str, str] | None = None) -> int:
    """Show a service's refusal on the form; return the status the page answers with.

    A message goes next to the field it names when the form has that field, else at the top.
    A form whose fields are named differently from the service's arguments maps them with a
    `service_error_field(field, message)` method. A DomainError goes at the top, or next to
    the field `fields` names for its code (a WIP refusal next to the override reason).
    Anything that is not a refusal is raised again.
    """
    status = status_for(exc)
    if status is None:
        raise exc
    by_field = service_error_messages(exc)
    if isinstance(exc, DomainError) and fields and exc.code in fields:
        by_field = {fields[exc.code]: by_field[None]}
    map_field = getattr(form, "service_error_field", None)
    for field, msgs in by_field.items():
        for message in msgs:
            target = map_field(field, message) if map_field and field is not None else field
            form.add_error(target if target in form.fields else None, message)
    return status


def message_service_error(request, exc) -> int:
    """For a page that redirects after its POST: the refusal as a flash message. Returns the
    status of the refusal (for a page that answers it rather than redirecting)."""
    status = status_for(exc)
    if status is None:
        raise exc
    messages.error(request, service_error_text(exc))
    return status
