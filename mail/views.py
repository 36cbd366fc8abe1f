"""Browser side of the customer channel's mail: resend a reply, the mailbox settings, the
mail log with retry, and a received message's original."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from incidents import permissions as incident_perms
from tracker.exceptions import DomainError
from tracker.forms import add_service_error, message_service_error

from . import services
from .forms import MailboxForm, MailLogFilter
from .inbound import inbound_retry
from .models import InboundMessage, Mailbox, OutboundMail
from .outbound import outbound_retry
from .permissions import can_manage_mail


def _require_manager(user):
    if not can_manage_mail(user):
        raise PermissionDenied("Only managers can manage mailboxes and the mail log.")


@require_POST
def comment_resend(request, comment):
    mail = get_object_or_404(
        OutboundMail.objects.select_related("incident", "incident__team"), comment=comment
    )
    if not incident_perms.can_comment(request.user, mail.incident):
        raise PermissionDenied("You cannot reply on this incident.")
    try:
        outbound_retry(outbound=mail)
    except DomainError as exc:
        message_service_error(request, exc)
    else:
        messages.success(request, f"Sending the reply on {mail.incident.key} again.")
    return redirect("incidents:detail", key=mail.incident.key)


def _mailbox_initial(mailbox: Mailbox) -> dict:
    return {
        "name": mailbox.name,
        "address": mailbox.address,
        "imap_url": mailbox.imap_url_public,
        "folder": mailbox.folder,
        "default_service": mailbox.default_service_id,
        "default_customer": mailbox.default_customer_id,
        "acknowledge": mailbox.acknowledge,
        "active": mailbox.active,
    }


def mailbox_list(request, pk=None):
    """The mailboxes, and a form to add one (or edit the one named by pk)."""
    _require_manager(request.user)
    editing = get_object_or_404(Mailbox, pk=pk) if pk else None
    initial = _mailbox_initial(editing) if editing else None
    form = MailboxForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if editing:
                    services.mailbox_update(mailbox=editing, data=dict(form.cleaned_data), actor=request.user)
                else:
                    services.mailbox_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(request, f"Mailbox {form.cleaned_data['name']} saved.")
                return redirect("mail:mailboxes")
        else:
            status = 400
    mailboxes = Mailbox.objects.select_related("default_service", "default_customer").order_by("name")
    context = {"mailboxes": mailboxes, "form": form, "editing": editing}
    return render(request, "mail/mailboxes.html", context, status=status)


def mail_log(request):
    _require_manager(request.user)
    filters = MailLogFilter(request.GET or None)
    qs = InboundMessage.objects.defer("raw", "html").select_related("mailbox", "incident")
    if filters.is_valid() and filters.cleaned_data.get("outcome"):
        qs = qs.filter(outcome=filters.cleaned_data["outcome"])
    page = Paginator(qs.order_by("-received_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "mail/log.html", {"page": page, "filters": filters})


@require_POST
def mail_log_retry(request, pk):
    _require_manager(request.user)
    row = get_object_or_404(InboundMessage, pk=pk)
    try:
        row = inbound_retry(message=row)
    except DomainError as exc:
        message_service_error(request, exc)
    else:
        if row.outcome == "failed":
            messages.error(request, f"Still failing: {row.error}")
        else:
            messages.success(request, f"Processed: {row.get_outcome_display()}.")
    return redirect("mail:log")


def message_original(request, pk):
    """The message exactly as received, as a download (never rendered as HTML here)."""
    row = get_object_or_404(InboundMessage.objects.select_related("incident"), pk=pk)
    allowed = can_manage_mail(request.user) or (
        row.incident_id is not None and incident_perms.can_view_incidents(request.user)
    )
    if not allowed:
        raise PermissionDenied("You cannot see this message.")
    response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
