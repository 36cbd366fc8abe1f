"""Who does the work and for whom: teams (support groups and development teams), the
services they look after, and the customers who use them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tracker.querysets import SmallTableQuerySet


class Tier(models.IntegerChoices):
    ONE = 1, "Tier 1"
    TWO = 2, "Tier 2"
    THREE = 3, "Tier 3"


class CapacityUnit(models.TextChoices):
    POINTS = "points", "Story points"
    HOURS = "hours", "Hours"


class TeamSupportModel(models.TextChoices):
    SHARED = "shared", "Shared by the whole team"
    ROTATION = "rotation", "One member per sprint (rotation)"


def default_estimates():
    """Default estimate of an escalated production defect by incident priority."""
    return {"P1": 5, "P2": 3, "P3": 3, "P4": 2, "P5": 1}


class Team(models.Model):
    """A support group (tier 1 or 2) or a development team (tier 3).

    Incidents are assigned to teams; development teams also own boards and sprints.
    """

    name = models.CharField(max_length=100, unique=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.ONE)
    is_development = models.BooleanField(default=False)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    email = models.EmailField(blank=True)

    # Delivery settings (development teams).
    capacity_unit = models.CharField(max_length=10, choices=CapacityUnit.choices, default=CapacityUnit.POINTS)
    sprint_length_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    support_allocation_percent = models.PositiveSmallIntegerField(
        default=20, validators=[MaxValueValidator(100)]
    )
    support_model = models.CharField(
        max_length=10, choices=TeamSupportModel.choices, default=TeamSupportModel.SHARED
    )
    default_estimates = models.JSONField(default=default_estimates, blank=True)
    auto_resolve_on_done = models.BooleanField(
        default=False, help_text="Resolve linked incidents automatically when their card is done."
    )

    objects = SmallTableQuerySet.as_manager()

    class Meta:
        ordering = ["tier", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tier__in=[1, 2, 3]), name="team_tier_1_to_3"),
        ]

    def __str__(self):
        return self.name


class ServiceSupportModel(models.TextChoices):
    TIERED = "tiered", "Tiered (hand-offs between tiers)"
    SWARM = "swarm", "Swarm (one group, members join)"


class Service(models.Model):
    """A product or application that customers use and incidents are logged against."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="developed_services",
        help_text="The development team that changes this service.",
    )
    support_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="supported_services",
        help_text="First-line team; for swarm services, the swarm group.",
    )
    support_model = models.CharField(
        max_length=10, choices=ServiceSupportModel.choices, default=ServiceSupportModel.TIERED
    )

    objects = SmallTableQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Customer(models.Model):
    """An organisation that reports incidents."""

    name = models.CharField(max_length=150, unique=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. GB.")
    # Lower-case domains, e.g. ["contoso.example"]: mail from an unknown sender at one of
    # them belongs to this customer (kept by org.services.customer_set_email_domains).
    email_domains = models.JSONField(default=list, blank=True)

    objects = SmallTableQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Contact(models.Model):
    """A person at a customer: the requester of incidents, copied on them, writes by e-mail."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=150)
    # Stored lower-case (org.services), so "unique per customer" means what a mail server means.
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The customer portal (SPEC §15): a customer admin sees every incident of their company
    # there, other contacts their own. `user` is their portal account (username = e-mail),
    # made when they accept an invitation (org.services.access); it never holds a staff role.
    is_customer_admin = models.BooleanField(
        default=False, help_text="Sees every incident of their company in the portal."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_contact",
        help_text="The contact's portal account, once they accepted an invitation.",
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "email"], name="contact_email_unique_per_customer"),
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class PortalInvitation(models.Model):
    """An e-mailed, one-time, expiring link to the portal's activation page.

    The link's token is `<id>:<nonce>:<signature>` (Django's signing with SECRET_KEY), so it
    is not guessable and the mail task can build it again from the row; it works once
    (`used_at`), until `expires_at`, and a newer invitation revokes the older ones."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invitations")
    nonce = models.CharField(max_length=64)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at"])]

    def __str__(self):
        return f"Invitation of {self.contact} ({self.created_at:%Y-%m-%d})"

    def is_open_at(self, at) -> bool:
        return self.used_at is None and self.revoked_at is None and at < self.expires_at
