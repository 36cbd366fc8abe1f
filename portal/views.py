"""The customer portal in the browser (/portal/): sign-in, activation, password reset, the
contact's incidents, a new request with article suggestions, replies, files and ratings.

Every page is `portal_page`: anonymous visitors go to the portal's own sign-in, staff get
the portal's 403 (the portal is for customers), and a contact sees only what
portal.permissions lets them (another customer's incident is a 404)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from incidents.attachments import previewable
from incidents.models import Attachment
from org.services import InvitationInvalid, contact_activate, invitation_for_token
from tracker.exceptions import DomainError
from tracker.forms import add_service_error

from . import selectors, services
from .forms import (
    AccountForm,
    ActivationForm,
    PortalLoginForm,
    PortalPasswordResetForm,
    RatingForm,
    ReplyForm,
    RequestForm,
)
from .models import RatingVia
from .permissions import can_comment, can_rate, portal_contact, visible_incidents

SUGGEST_MIN_CHARS = 3


def portal_page(view):
    """Sign-in through the portal's own page; only contacts' accounts get in."""

    @login_not_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.headers.get("HX-Request"):
                response = render(request, "portal/_empty.html", status=204)
                response["HX-Redirect"] = reverse("portal:login")
                return response
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if portal_contact(request.user) is None:
            return render(request, "portal/403.html", {"staff": True}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


# ------------------------------------------------------------------ signing in
@method_decorator(login_not_required, name="dispatch")
class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return reverse("portal:home")


@method_decorator(login_not_required, name="dispatch")
class PortalLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")  # type: ignore[assignment]  # a lazy URL, as Django documents


@method_decorator(login_not_required, name="dispatch")
class PortalPasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset.html"
    form_class = PortalPasswordResetForm
    email_template_name = "portal/mail/password_reset.txt"
    html_email_template_name = "portal/mail/password_reset.html"
    subject_template_name = "portal/mail/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


@method_decorator(login_not_required, name="dispatch")
class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


@method_decorator(login_not_required, name="dispatch")
class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and portal_contact(user) is not None else None


@method_decorator(login_not_required, name="dispatch")
class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


@login_not_required
@require_http_methods(["GET", "POST"])
def activate(request, token):
    """The invitation's page: choose a password (and a time zone), then you are signed in."""
    try:
        invitation = invitation_for_token(token)
    except InvitationInvalid as exc:
        return render(request, "portal/activate_invalid.html", {"reason": exc.detail}, status=404)
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = contact_activate(
                    token=token,
                    password=form.cleaned_data["password"],
                    password_again=form.cleaned_data["password_again"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except InvitationInvalid as exc:
                return render(request, "portal/activate_invalid.html", {"reason": exc.detail}, status=404)
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                login(request, user, backend="portal.backends.TandemBackend")
                messages.success(
                    request, "Welcome! Your account is ready; sign in with your e-mail next time."
                )
                return redirect("portal:home")
        else:
            status = 400
    context = {"form": form, "contact": invitation.contact, "expires_at": invitation.expires_at}
    return render(request, "portal/activate.html", context, status=status)


# ------------------------------------------------------------------ the contact's incidents
@portal_page
def home(request):
    state = request.GET.get("state", "open")
    if state not in ("open", "closed", "all"):
        state = "open"
    page = Paginator(
        selectors.portal_incident_list(user=request.user, state=state), selectors.PAGE_SIZE
    ).get_page(request.GET.get("page"))
    incidents = list(page.object_list)
    forecasts = selectors.forecasts_for(incidents)
    rows = [
        {
            "incident": i,
            "status": selectors.plain_status(i),
            "tone": selectors.status_tone(i),
            "resolution_due": selectors.promise_due(i, "resolution"),
            "forecast": forecasts.get(i.pk),
        }
        for i in incidents
    ]
    contact = portal_contact(request.user)
    context = {"rows": rows, "page": page, "state": state, "contact": contact}
    return render(request, "portal/home.html", context)


@portal_page
@require_http_methods(["GET", "POST"])
def incident_new(request):
    form = RequestForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.portal_incident_create(
                    user=request.user,
                    title=data["title"],
                    description=data["description"],
                    service=data["service"],
                    type=data["type"],
                    attachments=data["attachments"],
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc)
            else:
                messages.success(
                    request, f"Thank you — {incident.key} is logged. We will answer by e-mail and here."
                )
                return redirect("portal:incident", key=incident.key)
        else:
            status = 400
    suggestions = _suggestions(request.POST) if request.method == "POST" else []
    return render(request, "portal/new.html", {"form": form, "suggestions": suggestions}, status=status)


def _suggestions(data):
    text = f"{data.get('title', '')} {data.get('description', '')}".strip()
    if len(text) < SUGGEST_MIN_CHARS:
        return []
    service = data.get("service")
    return selectors.article_suggestions(text, service_id=int(service) if str(service).isdigit() else None)


@portal_page
@require_GET
def suggest(request):
    """htmx fragment under the new-request form: public articles like what is typed."""
    return render(request, "portal/_suggestions.html", {"suggestions": _suggestions(request.GET)})


@portal_page
@require_GET
def article(request, pk):
    return render(request, "portal/article.html", {"article": selectors.portal_article_get(pk=pk)})


@portal_page
@require_http_methods(["GET", "POST"])
def incident_detail(request, key):
    incident = selectors.portal_incident_get(user=request.user, key_or_id=key)
    reply = ReplyForm(None, prefix="reply")
    rating_form = RatingForm(None, prefix="rating")
    status = 200
    if request.method == "POST" and "reply-body" in request.POST:
        reply = ReplyForm(request.POST, request.FILES, prefix="reply")
        if reply.is_valid():
            try:
                services.portal_comment(
                    user=request.user,
                    incident=incident,
                    body=reply.cleaned_data["body"],
                    attachments=reply.cleaned_data["attachments"],
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(reply, exc, fields={"incident_final": "body"})
            else:
                messages.success(request, "Your reply is sent.")
                return redirect("portal:incident", key=incident.key)
        else:
            status = 400
    elif request.method == "POST":
        rating_form = RatingForm(request.POST, prefix="rating")
        if rating_form.is_valid():
            try:
                services.rating_create(
                    incident=incident,
                    user=request.user,
                    score=rating_form.cleaned_data["score"],
                    comment=rating_form.cleaned_data["comment"],
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(rating_form, exc, fields={"rating_refused": "score"})
            else:
                messages.success(request, "Thank you for your rating.")
                return redirect("portal:incident", key=incident.key)
        else:
            status = 400
    if status != 200:
        incident = selectors.portal_incident_get(user=request.user, key_or_id=key)
    context = {
        "incident": incident,
        "status_text": selectors.plain_status(incident),
        "tone": selectors.status_tone(incident),
        "promises": selectors.promises(incident),
        "forecast": selectors.forecasts_for([incident]).get(incident.pk),
        "rating": services.current_rating(incident),
        "can_reply": can_comment(request.user, incident),
        "can_rate": can_rate(request.user, incident),
        "reply": reply,
        "rating_form": rating_form,
        "contact": portal_contact(request.user),
    }
    return render(request, "portal/detail.html", context, status=status)


def _file_response(found, *, inline):
    """As the staff download answers (incidents.api.attachments): a download, or an image
    shown inline in a sandbox, never sniffed as something else."""
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=not inline,
        filename=found.name,
        content_type=found.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


@portal_page
@require_GET
def attachment(request, pk):
    """A file of an incident the viewer may see, never one on an internal note (404)."""
    found = get_object_or_404(
        Attachment.objects.select_related("comment"), pk=pk, incident__in=visible_incidents(request.user)
    )
    if found.comment_id and not found.comment.public:
        raise Http404
    inline = request.GET.get("preview") == "1"
    if inline and not previewable(found):
        raise Http404
    return _file_response(found, inline=inline)


@portal_page
@require_http_methods(["GET", "POST"])
def account(request):
    user: User = request.user
    form = AccountForm(request.POST or None, initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        User.objects.filter(pk=user.pk).update(time_zone=form.cleaned_data["time_zone"])
        messages.success(request, "Saved.")
        return redirect("portal:account")
    return render(request, "portal/account.html", {"form": form, "contact": portal_contact(user)})


# ------------------------------------------------------------------ rating from the mail
@login_not_required
@require_http_methods(["GET", "POST"])
def rate(request, token):
    """The resolution mail's link: rate without signing in (the signed link is the key)."""
    try:
        incident = services.incident_for_rating_token(token)
    except services.RatingRefused as exc:
        return render(request, "portal/rate.html", {"refused": exc.detail}, status=410)
    rating = services.current_rating(incident)
    initial = (
        {"score": request.GET.get("score")} if request.GET.get("score") in {"1", "2", "3", "4", "5"} else None
    )
    form = RatingForm(request.POST or None, initial=initial, prefix="rating")
    status = 200
    if request.method == "POST" and rating is None:
        if form.is_valid():
            try:
                rating = services.rating_create(
                    incident=incident,
                    token=token,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                    via=RatingVia.MAIL,
                )
            except (ValidationError, DomainError) as exc:
                status = add_service_error(form, exc, fields={"rating_refused": "score"})
            else:
                return render(
                    request, "portal/rate.html", {"incident": incident, "rating": rating, "thanks": True}
                )
        else:
            status = 400
    context = {"incident": incident, "rating": rating, "form": form, "now": timezone.now()}
    return render(request, "portal/rate.html", context, status=status)
