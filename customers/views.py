"""Customers in the browser: the list, a customer's page (contacts and incidents, add a
contact) and the contact search the log form asks as you type."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from incidents.models import Incident
from org import services
from org.models import Contact, Customer, PortalInvitation
from org.permissions import can_manage_contacts, can_view_contacts
from org.selectors import contact_list
from tracker.exceptions import DomainError
from tracker.forms import add_service_error, message_service_error

from .forms import ContactForm

SEARCH_LIMIT = 10
INCIDENT_LIMIT = 100


def _require_reader(user):
    if not can_view_contacts(user):
        raise PermissionDenied("Your account has no role yet; ask an admin.")


def customer_list(request):
    _require_reader(request.user)
    customers = Customer.objects.annotate(
        contact_count=Count("contacts", distinct=True), incident_count=Count("incidents", distinct=True)
    ).order_by("name")
    return render(request, "customers/list.html", {"customers": customers})


def customer_detail(request, pk):
    _require_reader(request.user)
    customer = get_object_or_404(Customer, pk=pk)
    form = ContactForm(request.POST or None, prefix="contact")
    status = 200
    if request.method == "POST":
        if not can_manage_contacts(request.user):
            raise PermissionDenied("Your role cannot add contacts.")
        if form.is_valid():
            try:
                contact = services.contact_create(customer=customer, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"{contact.name} added to {customer.name}.")
                return redirect("customers:detail", pk=customer.pk)
        status = 400
    incidents = (
        Incident.objects.filter(customer=customer)
        .select_related("requester", "team", "assignee")
        .order_by("-created_at", "-id")[:INCIDENT_LIMIT]
    )
    contacts = list(
        contact_list(customer=customer)
        .select_related("user")
        .prefetch_related(
            Prefetch("invitations", queryset=PortalInvitation.objects.order_by("-created_at", "-id"))
        )
    )
    for contact in contacts:
        contact.portal = services.portal_state(contact)
        contact.latest_invitation = next(iter(contact.invitations.all()), None)
    context = {
        "customer": customer,
        "contacts": contacts,
        "incidents": incidents,
        "incident_limit": INCIDENT_LIMIT,
        "form": form,
        "can_add": can_manage_contacts(request.user),
    }
    return render(request, "customers/detail.html", context, status=status)


def contact_search(request):
    """htmx fragment: contacts whose name or address contains `requester_search` (or `q`),
    at the chosen `customer` when one is chosen."""
    _require_reader(request.user)
    text = (request.GET.get("requester_search") or request.GET.get("q") or "").strip()
    customer = request.GET.get("customer") or None
    contacts = []
    if len(text) >= 2:
        contacts = list(
            contact_list(customer=int(customer) if str(customer).isdigit() else None, search=text)[
                :SEARCH_LIMIT
            ]
        )
    return render(request, "customers/_contact_results.html", {"contacts": contacts, "text": text})


@require_POST
def contact_portal(request, pk):
    """The contact's portal access from their customer's page: invite (again), remove access,
    or make them a customer admin (sees all of the company's incidents) or not."""
    _require_reader(request.user)
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=pk)
    if not can_manage_contacts(request.user):
        raise PermissionDenied("Your role cannot change contacts.")
    action = request.POST.get("action")
    try:
        if action == "invite":
            invitation = services.contact_invite(contact=contact, actor=request.user)
            messages.success(
                request,
                f"Invitation e-mailed to {contact.email}; the link works once, until "
                f"{invitation.expires_at:%d %b %Y %H:%M} UTC.",
            )
        elif action == "disable":
            services.contact_portal_disable(contact=contact, actor=request.user)
            messages.success(request, f"{contact.name} can no longer sign in to the portal.")
        elif action in ("admin_on", "admin_off"):
            services.contact_update(contact=contact, data={"is_customer_admin": action == "admin_on"})
            messages.success(
                request,
                f"{contact.name} now sees "
                + (
                    "all of the company's incidents." if action == "admin_on" else "only their own incidents."
                ),
            )
        else:
            messages.error(request, "Unknown action.")
    except (ValidationError, DomainError) as exc:
        message_service_error(request, exc)
    return redirect("customers:detail", pk=contact.customer_id)
