"""The Django admin writes through the services, like the browser and the API.

`ServiceModelAdmin` is the base of every admin that edits a record with rules: a subclass
says in `service_save` which service saves the form (create or update). The form is checked
by rehearsing that save inside a savepoint that is then rolled back, so the service's refusals
(ValidationError, DomainError) appear next to the fields as on the app's own forms, and no
second copy of the rules lives in the admin. The real save calls the same service once more;
neither `save_model` nor `save_related` saves the form itself (the service sets the
many-to-many fields too), so the service's locks, audit rows and side effects (on commit)
happen exactly once. Fields no service changes are listed read-only by the subclass.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction

from tracker.exceptions import DomainError
from tracker.forms import add_service_error, service_error_text


class _Rehearsal(Exception):
    """Raised inside the savepoint of a rehearsed save, to roll it back."""


class ServiceModelAdmin(admin.ModelAdmin):
    def service_save(self, request, obj, form, change) -> models.Model:
        """Save `form.cleaned_data` through the app's service and return the saved record."""
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceCheckedForm(base):
            def _post_clean(self):
                super()._post_clean()
                if not self.errors:
                    model_admin._rehearse(request, self, change)

        ServiceCheckedForm.__name__ = base.__name__
        return ServiceCheckedForm

    def _rehearse(self, request, form, change):
        try:
            with transaction.atomic():
                self.service_save(request, form.instance, form, change)
                raise _Rehearsal
        except _Rehearsal:
            pass
        except (ValidationError, DomainError) as exc:
            add_service_error(form, exc)

    def save_model(self, request, obj, form, change):
        saved = self.service_save(request, obj, form, change)
        obj.pk = saved.pk
        obj._state.adding = False

    def service_delete(self, request, obj) -> None:
        """Delete through the app's service; admins without one delete as Django does."""
        obj.delete()

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.service_delete(request, obj)

    def save_related(self, request, form, formsets, change):
        # The service set the many-to-many fields; inline formsets save themselves (the
        # inlines of these admins are read-only or have no rules of their own).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


def service_action(description: str, service, *, verb: str):
    """An admin action that calls `service(<record>, actor=request.user)` for each selected
    record and reports each refusal by name instead of failing the whole batch."""

    @admin.action(description=description)
    def action(model_admin, request, queryset):
        for record in queryset:
            try:
                service(record, actor=request.user)
            except (DomainError, ValidationError) as exc:
                model_admin.message_user(request, f"{record}: {service_error_text(exc)}", messages.ERROR)
            else:
                model_admin.message_user(request, f"{record} {verb}.")

    return action
