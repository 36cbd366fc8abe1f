"""Customers in the browser: the list, a customer's page (contacts and incidents, add a
contact) and the contact search the log form asks as you type."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from incidents.models import Incident
from org import services
from org.models import Customer
from org.permissions import can_manage_contacts, can_view_contacts
from org.selectors import contact_list
from tracker.forms import add_service_error

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
    context = {
        "customer": customer,
        "contacts": contact_list(customer=customer),
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
