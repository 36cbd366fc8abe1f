"""Browser side of the customer channel's mail."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from incidents import permissions as incident_perms
from tracker.exceptions import DomainError

from .models import OutboundMail
from .outbound import outbound_retry


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
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Sending the reply on {mail.incident.key} again.")
    return redirect("incidents:detail", key=mail.incident.key)
