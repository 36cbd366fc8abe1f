"""Writes to customers' contacts and mail domains. Browser, API, admin and the mail app call
these, so an address is normalised and checked the same way everywhere."""

import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from audit.services import audit_created, audit_deleted, audit_snapshot, audit_updated

from ..models import (
    CapacityUnit,
    Contact,
    Customer,
    Service,
    ServiceSupportModel,
    Team,
    TeamSupportModel,
    Tier,
)

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CONTACT_FIELDS = ("name", "email", "phone")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def clean_email_domains(domains: object, *, customer: Customer | None = None) -> list[str]:
    """Lower-case, de-duplicated, syntactically valid domains that no other customer claims."""
    if not isinstance(domains, list | tuple):
        raise ValidationError({"email_domains": ['Give a list of domains, e.g. ["contoso.example"].']})
    cleaned: list[str] = []
    for raw in domains:
        domain = str(raw or "").strip().lower().lstrip("@")
        if not DOMAIN_RE.match(domain):
            raise ValidationError(
                {"email_domains": [f"“{raw}” is not a mail domain (e.g. contoso.example)."]}
            )
        if domain not in cleaned:
            cleaned.append(domain)
    others = Customer.objects.exclude(email_domains=[])
    if customer is not None:
        others = others.exclude(pk=customer.pk)
    for other in others.only("name", "email_domains"):
        taken = sorted(set(cleaned) & {d.lower() for d in other.email_domains or []})
        if taken:
            raise ValidationError({"email_domains": [f"{taken[0]} already belongs to {other.name}."]})
    return cleaned


def _clean_contact(*, name: str, email: str, phone: str) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    email = normalise_email(email)
    phone = (phone or "").strip()
    if not name:
        errors["name"] = ["Give the contact's name."]
    elif len(name) > 150:
        errors["name"] = ["Keep the name under 150 characters."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid e-mail address, e.g. ana@contoso.example."]
    if len(phone) > 40:
        errors["phone"] = ["Keep the phone number under 40 characters."]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "email": email, "phone": phone}


def _duplicate(customer: Customer, email: str) -> ValidationError:
    return ValidationError({"email": [f"{customer} already has a contact with the address {email}."]})


@transaction.atomic
def contact_create(
    *, customer: Customer, name: str, email: str, phone: str = "", is_customer_admin: bool = False
) -> Contact:
    if customer is None:
        raise ValidationError({"customer": ["Choose the customer the contact works for."]})
    values = _clean_contact(name=name, email=email, phone=phone)
    if Contact.objects.filter(customer=customer, email=values["email"]).exists():
        raise _duplicate(customer, values["email"])
    try:
        with transaction.atomic():
            return Contact.objects.create(
                customer=customer, is_customer_admin=bool(is_customer_admin), **values
            )
    except IntegrityError:  # a concurrent create of the same address
        raise _duplicate(customer, values["email"]) from None


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    unknown = set(data) - set(CONTACT_FIELDS) - {"customer", "is_customer_admin"}
    if unknown:
        raise ValidationError({f: ["This field cannot be edited here."] for f in sorted(unknown)})
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    customer = data.get("customer", contact.customer)
    values = _clean_contact(
        name=data.get("name", contact.name),
        email=data.get("email", contact.email),
        phone=data.get("phone", contact.phone),
    )
    if Contact.objects.filter(customer=customer, email=values["email"]).exclude(pk=contact.pk).exists():
        raise _duplicate(customer, values["email"])
    if customer != contact.customer and contact.user_id:
        # A portal account sees its customer's incidents: moving it would show it another's.
        raise ValidationError(
            {"customer": ["This contact has a portal account; it stays with its customer."]}
        )
    email_changed = values["email"] != contact.email
    for field, value in values.items():
        setattr(contact, field, value)
    contact.customer = customer
    if "is_customer_admin" in data:
        contact.is_customer_admin = bool(data["is_customer_admin"])
    contact.save()
    if email_changed:
        contact_sync_account(contact=contact)
    return contact


def contact_get_or_create(*, customer: Customer, email: str, name: str = "") -> tuple[Contact, bool]:
    """The customer's contact with this address, created (named after the address when no
    name is known) if there is none yet."""
    email = normalise_email(email)
    found = Contact.objects.filter(customer=customer, email=email).first()
    if found is not None:
        return found, False
    try:
        return contact_create(customer=customer, name=name or email.split("@")[0], email=email), True
    except ValidationError as exc:
        found = Contact.objects.filter(customer=customer, email=email).first()
        if found is None:
            raise exc from None
        return found, False


@transaction.atomic
def customer_set_email_domains(*, customer: Customer, domains: object) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    customer.email_domains = clean_email_domains(domains, customer=customer)
    customer.save(update_fields=["email_domains"])
    return customer


def split_addresses(text: str) -> list[str]:
    return [a for a in re.split(r"[\s,;]+", (text or "").strip().lower()) if a]


@transaction.atomic
def contacts_for_incident(
    *,
    customer: Customer | None,
    requester: Contact | None = None,
    new_contact_name: str = "",
    new_contact_email: str = "",
    cc_emails: str = "",
) -> tuple[Customer | None, Contact | None, list[Contact]]:
    """What the log form names, as contacts: a chosen requester, or a new one by name and
    address (at the chosen customer, else the customer of the address's domain), and copies
    by address (created at the incident's customer when unknown)."""
    from ..selectors import customer_for_domain

    new_contact_email = normalise_email(new_contact_email)
    if requester is not None and new_contact_email:
        raise ValidationError({"new_contact_email": ["Choose a contact or enter a new one, not both."]})
    if requester is not None:
        customer = customer or requester.customer
    elif new_contact_email:
        customer = customer or customer_for_domain(new_contact_email.rpartition("@")[2])
        if customer is None:
            raise ValidationError({"customer": ["Choose the customer the new contact works for."]})
        try:
            requester, _ = contact_get_or_create(
                customer=customer, email=new_contact_email, name=(new_contact_name or "").strip()
            )
        except ValidationError as exc:
            raise ValidationError(
                {f"new_contact_{k}": v for k, v in exc.message_dict.items() if k in ("name", "email")}
                or exc.message_dict
            ) from None
    elif (new_contact_name or "").strip():
        raise ValidationError({"new_contact_email": ["Give the new contact's e-mail address."]})
    addresses = split_addresses(cc_emails)
    if addresses and customer is None:
        raise ValidationError({"cc": ["Copies need the incident's customer; choose it first."]})
    copies: list[Contact] = []
    for address in addresses:
        assert customer is not None  # checked above: copies need the customer
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"cc": [f"“{address}” is not an e-mail address."]}) from None
        contact, _ = contact_get_or_create(customer=customer, email=address)
        if contact not in copies and contact != requester:
            copies.append(contact)
    return customer, requester, copies


# ------------------------------------------------------------------ teams, services, customers
# The API, the admin and the team settings page (sprints.services.team_settings_update, for
# the delivery settings) all save teams, services and customers through these, under a lock
# on the record, with one set of rules and one audit row per change.
TEAM_SETTING_FIELDS = (
    "capacity_unit",
    "sprint_length_days",
    "support_allocation_percent",
    "support_model",
    "default_estimates",
    "auto_resolve_on_done",
)
TEAM_FIELDS = ("name", "tier", "is_development", "lead", "email", "members", *TEAM_SETTING_FIELDS)
SERVICE_FIELDS = ("name", "description", "team", "support_team", "support_model")
CUSTOMER_FIELDS = ("name", "country", "email_domains")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

Actor = AbstractBaseUser | AnonymousUser | None
Values = dict[str, Any]
Errors = dict[str, list[str]]
_M = TypeVar("_M", bound=models.Model)


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _unknown_fields(values: Values, allowed: Iterable[str]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({name: ["This field cannot be set here."] for name in unknown})


def _clean_name(
    values: Values, errors: Errors, model: type[models.Model], instance: models.Model | None, what: str
) -> None:
    if "name" not in values:
        return
    name = (values["name"] or "").strip()
    values["name"] = name
    if not name:
        errors["name"] = [f"Give the {what} a name."]
    elif model._default_manager.filter(name__iexact=name).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["name"] = [f"A {what} with this name already exists."]


def _clean_estimates(estimates: object, errors: Errors) -> object:
    if not isinstance(estimates, dict) or set(estimates) - set(PRIORITIES):
        errors["default_estimates"] = ["Give estimates for priorities P1 to P5 only."]
        return estimates
    cleaned: dict[str, int | float] = {}
    for key in PRIORITIES:
        if key not in estimates or estimates[key] in (None, ""):
            continue
        try:
            number = Decimal(str(estimates[key]))
        except (InvalidOperation, ValueError):
            errors["default_estimates"] = [f"{key}: enter a number."]
            return estimates
        if not number.is_finite() or number < 0:
            errors["default_estimates"] = [f"{key}: an estimate is a number ≥ 0."]
            return estimates
        cleaned[key] = int(number) if number == number.to_integral_value() else float(number)
    return cleaned


def _clean_team(values: Values, team: Team | None) -> Values:
    """The team's values after the rules, or a ValidationError naming each bad field."""
    errors: Errors = {}
    _clean_name(values, errors, Team, team, "team")
    tier = values.get("tier", team.tier if team else Tier.ONE)
    is_dev = values.get("is_development", team.is_development if team else False)
    if "tier" in values and tier not in Tier.values:
        errors["tier"] = ["Choose tier 1, 2 or 3."]
    elif is_dev and tier != Tier.THREE:
        errors["tier"] = ["Development teams are tier-3 teams."]
    if (
        team is not None
        and team.is_development
        and not is_dev
        and (team.developed_services.exists() or team.boards.exists())
    ):
        errors["is_development"] = [f"{team.name} develops services or owns boards; it stays tier 3."]
    if "capacity_unit" in values and values["capacity_unit"] not in CapacityUnit.values:
        errors["capacity_unit"] = ["Choose points or hours."]
    if "support_model" in values and values["support_model"] not in TeamSupportModel.values:
        errors["support_model"] = ["Choose shared or rotation."]
    if "sprint_length_days" in values and not _whole(values["sprint_length_days"], 1, 60):
        errors["sprint_length_days"] = ["Between 1 and 60 days."]
    if "support_allocation_percent" in values and not _whole(values["support_allocation_percent"], 0, 100):
        errors["support_allocation_percent"] = ["A whole percentage between 0 and 100."]
    if "default_estimates" in values:
        values["default_estimates"] = _clean_estimates(values["default_estimates"], errors)
    if not is_dev:
        # Delivery settings belong to development teams: a support group keeps the defaults.
        for field in TEAM_SETTING_FIELDS:
            if field in values and field not in errors:
                current = getattr(team, field) if team else _field_default(Team, field)
                if values[field] != current:
                    errors[field] = ["Only development teams have delivery settings."]
    if "email" in values:
        values["email"] = normalise_email(values["email"] or "")
        if values["email"]:
            try:
                validate_email(values["email"])
            except ValidationError:
                errors["email"] = ["Enter a valid e-mail address."]
    if errors:
        raise ValidationError(errors)
    return values


def _field_default(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    # Every delivery setting is a concrete field (the union also covers relations).
    assert isinstance(field, models.Field)
    return field.get_default()


Cleaner = Callable[[Values, Any], Values]


def _create(model: type[_M], *, actor: Actor, values: Values, fields: Iterable[str], clean: Cleaner) -> _M:
    """A new record from checked values, its many-to-many `members` set, one audit row."""
    _unknown_fields(values, fields)
    values.setdefault("name", "")
    values = clean(values, None)
    members = values.pop("members", None)
    instance = model()
    _save(instance, values)
    if members is not None:
        getattr(instance, "members").set(members)  # noqa: B009  (only teams have members)
    audit_created(actor=actor, instance=instance)
    return instance


def _update(instance: _M, *, actor: Actor, values: Values, fields: Iterable[str], clean: Cleaner) -> _M:
    """Change a record, locked against a concurrent change of the same record; one audit
    row for what changed."""
    _unknown_fields(values, fields)
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    values = clean(values, locked)
    before = audit_snapshot(locked)
    members = values.pop("members", None)
    _save(locked, values)
    if members is not None:
        getattr(locked, "members").set(members)  # noqa: B009
    audit_updated(actor=actor, instance=locked, before=before)
    return locked


def _save(instance: models.Model, values: Values) -> None:
    if instance.pk is None:
        for field, value in values.items():
            setattr(instance, field, value)
        instance.save()
        return
    changed = [f for f, v in values.items() if getattr(instance, f) != v]
    for field in changed:
        setattr(instance, field, values[field])
    if changed:
        instance.save(update_fields=changed)


@transaction.atomic
def team_create(*, actor: Actor, **values: Any) -> Team:
    """A support group (tier 1 or 2) or a development team (tier 3)."""
    return _create(Team, actor=actor, values=values, fields=TEAM_FIELDS, clean=_clean_team)


@transaction.atomic
def team_update(*, team: Team, actor: Actor, **values: Any) -> Team:
    """Change a team, locked against a concurrent change of the same team."""
    return _update(team, actor=actor, values=values, fields=TEAM_FIELDS, clean=_clean_team)


def _clean_service(values: Values, service: Service | None) -> Values:
    errors: Errors = {}
    _clean_name(values, errors, Service, service, "service")
    team = values.get("team", service.team if service else None)
    if "team" in values and team is not None and not team.is_development:
        errors["team"] = ["The owning team must be a development team."]
    if "support_team" in values:
        support = values["support_team"]
        if support is None:
            errors["support_team"] = ["Choose the first-line team."]
        elif support.is_development and support.tier != Tier.THREE:
            errors["support_team"] = ["Choose a support group."]
    elif service is None:
        errors["support_team"] = ["Choose the first-line team."]
    if "support_model" in values and values["support_model"] not in ServiceSupportModel.values:
        errors["support_model"] = ["Choose tiered or swarm."]
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def service_create(*, actor: Actor, **values: Any) -> Service:
    return _create(Service, actor=actor, values=values, fields=SERVICE_FIELDS, clean=_clean_service)


@transaction.atomic
def service_update(*, service: Service, actor: Actor, **values: Any) -> Service:
    return _update(service, actor=actor, values=values, fields=SERVICE_FIELDS, clean=_clean_service)


def _clean_customer(values: Values, customer: Customer | None) -> Values:
    errors: Errors = {}
    _clean_name(values, errors, Customer, customer, "customer")
    if "country" in values:
        country = (values["country"] or "").strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            errors["country"] = ["Use a two-letter ISO 3166 code, e.g. GB."]
        values["country"] = country
    if "email_domains" in values:
        try:
            values["email_domains"] = clean_email_domains(values["email_domains"], customer=customer)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def customer_create(*, actor: Actor, **values: Any) -> Customer:
    return _create(Customer, actor=actor, values=values, fields=CUSTOMER_FIELDS, clean=_clean_customer)


@transaction.atomic
def customer_update(*, customer: Customer, actor: Actor, **values: Any) -> Customer:
    return _update(customer, actor=actor, values=values, fields=CUSTOMER_FIELDS, clean=_clean_customer)


def _delete(instance: _M, *, actor: Actor, what: str) -> None:
    """Delete a record still unused, with its audit row; a record in use stays (400)."""
    model = type(instance)
    instance = model._default_manager.select_for_update().get(pk=instance.pk)
    before, pk = audit_snapshot(instance), instance.pk
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError:
        message = f"{what} {instance} is still in use and cannot be deleted."
        raise ValidationError({"detail": [message]}) from None
    instance.pk = pk
    audit_deleted(actor=actor, instance=instance, before=before, object_id=pk)


@transaction.atomic
def team_delete(*, team: Team, actor: Actor) -> None:
    _delete(team, actor=actor, what="Team")


@transaction.atomic
def service_delete(*, service: Service, actor: Actor) -> None:
    _delete(service, actor=actor, what="Service")


@transaction.atomic
def customer_delete(*, customer: Customer, actor: Actor) -> None:
    _delete(customer, actor=actor, what="Customer")


# Contacts' portal access; at the end, since it builds on the helpers above.
from .access import (  # noqa: E402, I001
    InvitationInvalid as InvitationInvalid,
    contact_activate as contact_activate,
    contact_invite as contact_invite,
    contact_portal_disable as contact_portal_disable,
    contact_sync_account as contact_sync_account,
    invitation_for_token as invitation_for_token,
    invitation_send as invitation_send,
    invitation_token as invitation_token,
    portal_state as portal_state,
)
