"""Reads of customers and contacts: search as you type, and who a mail address belongs to."""

from django.db import connection
from django.db.models import Q, QuerySet

from .models import Contact, Customer


def contact_list(*, customer: Customer | int | None = None, search: str = "") -> QuerySet[Contact]:
    qs = Contact.objects.select_related("customer")
    if customer:
        qs = qs.filter(customer=customer)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return qs.order_by("name", "id")


def contact_for_address(email: str, *, customer: Customer | None = None) -> Contact | None:
    """The contact with this address (at `customer` when given; else the oldest one)."""
    qs = Contact.objects.select_related("customer").filter(email=(email or "").strip().lower())
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("id").first()


def customer_for_domain(domain: str) -> Customer | None:
    """The customer that claims this mail domain (domains are unique across customers)."""
    domain = (domain or "").strip().lower()
    if not domain:
        return None
    if connection.vendor == "postgresql":
        return Customer.objects.filter(email_domains__contains=[domain]).order_by("id").first()
    # SQLite (the embedded default) has no JSON containment; a laptop has a handful of customers.
    for customer in Customer.objects.exclude(email_domains=[]).order_by("id"):
        if domain in (customer.email_domains or []):
            return customer
    return None


def customer_for_address(email: str) -> Customer | None:
    """Who a sender belongs to: their contact's customer, else the customer of their domain."""
    contact = contact_for_address(email)
    if contact is not None:
        return contact.customer
    return customer_for_domain((email or "").rpartition("@")[2])
