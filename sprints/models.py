"""Scrum sprints with real capacity, member availability and a log of scope changes."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SprintState(models.TextChoices):
    PLANNING = "planning", "Planning"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Sprint(models.Model):
    team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="sprints")
    board = models.ForeignKey(
        "boards.Board", null=True, blank=True, on_delete=models.SET_NULL, related_name="sprints"
    )
    name = models.CharField(max_length=100)
    goal = models.TextField(blank=True)
    start = models.DateField()
    end = models.DateField()
    state = models.CharField(max_length=10, choices=SprintState.choices, default=SprintState.PLANNING)
    support_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_sprints",
        help_text="Rotation: the member whose whole capacity goes to support this sprint.",
    )
    # Recorded at start and close; never recomputed afterwards.
    committed = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    capacity_at_start = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    velocity = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="sprint_end_after_start"
            ),
            models.UniqueConstraint(
                fields=["team"], condition=models.Q(state="active"), name="one_active_sprint_per_team"
            ),
        ]

    def __str__(self):
        return self.name


class SprintMember(models.Model):
    """A member's availability in one sprint."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    days_off = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("0"))
    hours_per_day = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("6"))
    focus_factor = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sprint", "user"], name="sprint_member_unique")]

    def __str__(self):
        return f"{self.user} in {self.sprint}"


class ScopeChangeKind(models.TextChoices):
    ADDED = "added", "Added"
    REMOVED = "removed", "Removed"
    RE_ESTIMATED = "re_estimated", "Re-estimated"


class WorkSource(models.TextChoices):
    PLANNED = "planned", "Planned"
    ESCALATION = "escalation", "Escalated incident"
    EMERGENCY_CHANGE = "emergency_change", "Emergency change"
    OTHER = "other", "Other unplanned"


class ScopeChange(models.Model):
    """Every change of a sprint's scope after it started: who, when, why, how much."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="scope_changes")
    card = models.ForeignKey("boards.Card", on_delete=models.CASCADE, related_name="scope_changes")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    change = models.CharField(max_length=20, choices=ScopeChangeKind.choices)
    source = models.CharField(max_length=20, choices=WorkSource.choices, default=WorkSource.OTHER)
    reason = models.TextField(blank=True)
    estimate_delta = models.DecimalField(max_digits=6, decimal_places=1, default=Decimal("0"))

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["sprint", "at"])]

    def __str__(self):
        return f"{self.card_id} {self.change} in {self.sprint_id}"


class SprintCommitment(models.Model):
    """What the team committed to when the sprint started: one row per card, with the
    estimate it had then. Cards added later are unplanned; this is how we tell them apart."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="commitments")
    card = models.ForeignKey("boards.Card", on_delete=models.CASCADE, related_name="sprint_commitments")
    estimate = models.DecimalField(max_digits=6, decimal_places=1, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sprint", "card"], name="sprint_commitment_unique")]

    def __str__(self):
        return f"{self.card_id} committed in {self.sprint_id}"


class SprintCarryOver(models.Model):
    """A card the sprint did not finish, as it stood at the close, and where it went: the
    next sprint (`to_sprint`) or the product backlog (`to_sprint` empty). The closed
    sprint's record keeps these rows even after the cards move on."""

    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="carry_overs")
    card = models.ForeignKey("boards.Card", on_delete=models.CASCADE, related_name="carry_overs")
    to_sprint = models.ForeignKey(
        Sprint, null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_in"
    )
    estimate = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    column_name = models.CharField(max_length=60, blank=True, help_text="Where the card stood at the close.")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["sprint", "id"]
        constraints = [models.UniqueConstraint(fields=["sprint", "card"], name="sprint_carry_over_unique")]

    def __str__(self):
        return f"{self.card_id} from {self.sprint_id} to {self.to_sprint_id or 'backlog'}"

    @property
    def destination(self) -> str:
        return "sprint" if self.to_sprint_id else "backlog"


class RotationSlot(models.Model):
    """A team's support rotation order (SPEC §6): one member per sprint is on support, in
    this order, round robin. Editable by whoever edits the team's delivery settings."""

    team = models.ForeignKey("org.Team", on_delete=models.CASCADE, related_name="rotation_slots")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["team", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="rotation_slot_user_once"),
        ]

    def __str__(self):
        return f"{self.team_id}: {self.position}. {self.user_id}"
