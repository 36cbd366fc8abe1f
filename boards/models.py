"""Kanban boards: columns (workflow steps with a category), swim lanes, cards and moves."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ColumnCategory(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    READY = "ready", "Ready"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class LaneKind(models.TextChoices):
    EXPEDITE = "expedite", "Expedite"
    STANDARD = "standard", "Standard"


class CardType(models.TextChoices):
    STORY = "story", "Story"
    ENHANCEMENT = "enhancement", "Enhancement"
    DEFECT = "defect", "Defect"
    PRODUCTION_DEFECT = "production_defect", "Production defect"
    ENGINEERING_TASK = "engineering_task", "Engineering task"
    CHANGE = "change", "Change"


class ClassOfService(models.TextChoices):
    EXPEDITE = "expedite", "Expedite"
    FIXED_DATE = "fixed_date", "Fixed date"
    STANDARD = "standard", "Standard"
    INTANGIBLE = "intangible", "Intangible"


class Board(models.Model):
    name = models.CharField(max_length=100, unique=True)
    teams = models.ManyToManyField("org.Team", related_name="boards", blank=True)
    key_prefix = models.CharField(max_length=10, default="DEV")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Column(models.Model):
    """A workflow step. Its category, never its name, drives the rules."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=60)
    category = models.CharField(max_length=20, choices=ColumnCategory.choices)
    position = models.PositiveIntegerField(default=0)
    wip_min = models.PositiveIntegerField(null=True, blank=True)
    wip_max = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["board", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(wip_min__isnull=True)
                | models.Q(wip_max__isnull=True)
                | models.Q(wip_min__lte=models.F("wip_max")),
                name="column_wip_min_le_max",
            )
        ]

    def __str__(self):
        return f"{self.board}: {self.name}"


class Lane(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="lanes")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=20, choices=LaneKind.choices, default=LaneKind.STANDARD)
    position = models.PositiveIntegerField(default=0)
    # How many of the lane's cards may be in progress at once across the board (None: no
    # limit); the expedite lane's is usually 1.
    wip_max = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["board", "position", "id"]

    def __str__(self):
        return f"{self.board}: {self.name}"


class ReasonKind(models.TextChoices):
    BLOCK = "block", "Block"
    WIP_OVERRIDE = "wip_override", "WIP limit override"


class ReasonCode(models.Model):
    """Configurable reasons for blocking a card or exceeding a WIP limit (reported on)."""

    kind = models.CharField(max_length=20, choices=ReasonKind.choices)
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "label"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="reason_code_unique_per_kind")]

    def __str__(self):
        return self.label


class Release(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=60)
    planned_for = models.DateField(null=True, blank=True)
    deployed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["board", "-planned_for", "name"]
        constraints = [
            models.UniqueConstraint(fields=["board", "name"], name="release_name_unique_per_board")
        ]

    def __str__(self):
        return self.name


class Card(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="cards")
    key = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=30, choices=CardType.choices, default=CardType.STORY)
    class_of_service = models.CharField(
        max_length=20, choices=ClassOfService.choices, default=ClassOfService.STANDARD
    )
    estimate = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards"
    )
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="cards")
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="cards")
    # Order within its cell (column × lane); smaller is higher. Gaps leave room to insert.
    rank = models.BigIntegerField(default=0)
    # Rank in the product backlog / sprint (what the product owner orders); smaller is higher.
    backlog_rank = models.BigIntegerField(default=0, db_index=True)
    sprint = models.ForeignKey(
        "sprints.Sprint", null=True, blank=True, on_delete=models.SET_NULL, related_name="cards"
    )
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards"
    )
    due_date = models.DateField(null=True, blank=True)

    blocked = models.BooleanField(default=False)
    block_reason = models.ForeignKey(
        ReasonCode, null=True, blank=True, on_delete=models.PROTECT, related_name="blocked_cards"
    )
    block_note = models.TextField(blank=True)
    blocked_since = models.DateTimeField(null=True, blank=True)

    # Named by string: incidents sit below boards, and the checker cannot resolve the model.
    incidents = models.ManyToManyField(  # type: ignore[var-annotated]
        "incidents.Incident", through="CardIncident", related_name="cards"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["column__position", "lane__position", "rank", "id"]
        indexes = [
            models.Index(fields=["board", "column", "lane", "rank"]),
            models.Index(fields=["sprint", "backlog_rank"]),
            # the fix forecast's stamp: a board's done cards, their number and last change
            models.Index(
                fields=["board", "updated_at"], condition=Q(done_at__isnull=False), name="card_board_done_idx"
            ),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"


class CardIncident(models.Model):
    """An incident linked to a card (an escalated defect; many incidents may share one card)."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="incident_links")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="card_links")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["card", "incident"], name="card_incident_unique")]

    def __str__(self):
        return f"{self.card_id} ↔ {self.incident_id}"


class CardMove(models.Model):
    """Every move of a card, for history and flow metrics. Creation is a move from nowhere."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="moves")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_column = models.ForeignKey(
        Column, null=True, blank=True, on_delete=models.SET_NULL, related_name="moves_out"
    )
    to_column = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="moves_in")
    from_lane = models.ForeignKey(Lane, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_lane = models.ForeignKey(Lane, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    override_reason = models.ForeignKey(
        ReasonCode, null=True, blank=True, on_delete=models.PROTECT, related_name="wip_overrides"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["card", "at"])]

    def __str__(self):
        return f"{self.card_id} → {self.to_column_id}"


class BlockPeriod(models.Model):
    """One stretch of time a card was blocked, for blocked-time metrics by reason."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="block_periods")
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="block_periods")
    note = models.TextField(blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]

    def __str__(self):
        return f"{self.card_id} blocked {self.started_at:%Y-%m-%d}"


class ForecastStatus(models.TextChoices):
    OK = "ok", "Forecast"
    INSUFFICIENT_HISTORY = "insufficient_history", "Not enough history"
    BEYOND_HORIZON = "beyond_horizon", "Beyond the forecast horizon"


class BoardForecastRun(models.Model):
    """The board's fix-forecast curves (boards.forecasting): per lane class, the simulated
    percentile curves and the history they came from, stamped with the board's done cards
    and the day. A card's forecast is read off them at its current place in its class's
    queue, so a move changes nothing here and a card's dates are never stale."""

    board = models.OneToOneField(
        Board, primary_key=True, on_delete=models.CASCADE, related_name="forecast_run"
    )
    version = models.CharField(max_length=120)
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    cards = models.PositiveIntegerField(default=0)  # open cards when computed
    # Per lane class: the percentile curves, the history's key, size and today's done cards.
    curves = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"{self.board_id} @ {self.version}"
