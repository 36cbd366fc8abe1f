from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services
from .forms import EmailPreferencesForm
from .models import Notification

PAGE_SIZE = 50


def notification_list(request):
    show = request.GET.get("show", "all")
    qs = Notification.objects.filter(recipient=request.user).select_related("incident")
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "show": show})


def bell(request):
    """The bell alone, for the page's periodic refresh (htmx swaps it in place)."""
    return render(request, "notifications/_bell.html")


@require_POST
def mark_read(request, pk):
    get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(user=request.user, pk=pk)
    return _back(request)


@require_POST
def mark_all_read(request):
    count = services.notification_mark_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return _back(request)


def open_notification(request, pk):
    """Follow a notification's link, marking it read on the way."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(user=request.user, pk=pk)
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect("notifications:list")
    return redirect(target)


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


def preferences(request):
    if request.method == "POST":
        form = EmailPreferencesForm(request.POST)
        if form.is_valid():
            services.email_preferences_set(user=request.user, emailed_kinds=form.cleaned_data["kinds"])
            messages.success(request, "Your e-mail choices are saved.")
            return redirect("notifications:preferences")
    else:
        form = EmailPreferencesForm(initial={"kinds": sorted(services.emailed_kinds(request.user))})
    return render(request, "notifications/preferences.html", {"form": form})
