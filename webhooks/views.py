from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.forms import add_service_error

from .forms import SubscriptionForm
from .models import Delivery, Subscription
from .permissions import can_manage_webhooks
from .services import delivery_redeliver, subscription_create, subscription_update

LOG_SIZE = 50


def _require_manager(request):
    if not can_manage_webhooks(request.user):
        raise PermissionDenied


def webhook_list(request):
    _require_manager(request)
    form = SubscriptionForm(request.POST or None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            subscription = subscription_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            status = add_service_error(form, exc)
        else:
            messages.success(request, f"Subscribed {subscription.url}. Its signing secret is shown below.")
            return redirect("webhooks:list")
    subscriptions = Subscription.objects.order_by("id")
    deliveries = Delivery.objects.select_related("subscription").order_by("-created_at", "-id")[:LOG_SIZE]
    return render(
        request,
        "webhooks/list.html",
        {"form": form, "subscriptions": subscriptions, "deliveries": deliveries},
        status=status,
    )


@require_POST
def webhook_toggle(request, pk):
    _require_manager(request)
    subscription = get_object_or_404(Subscription, pk=pk)
    subscription_update(subscription=subscription, actor=request.user, active=not subscription.active)
    return redirect("webhooks:list")


@require_POST
def delivery_resend(request, pk):
    _require_manager(request)
    delivery_redeliver(delivery=get_object_or_404(Delivery, pk=pk))
    messages.success(request, "Queued for delivery again.")
    return redirect("webhooks:list")
