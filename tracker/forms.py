from django.core.exceptions import ValidationError

from tracker.exceptions import DomainError


def add_service_error(form, exc):
    """Show a service's refusal on the form: next to the field when it names one."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    elif isinstance(exc, ValidationError):
        for message in exc.messages:
            form.add_error(None, message)
    elif isinstance(exc, DomainError):
        form.add_error(None, exc.detail)
    else:
        raise exc
