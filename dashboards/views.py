from datetime import timedelta
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Max
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from boards.models import Board
from incidents import permissions as incident_perms
from incidents.filters import IncidentFilter
from incidents.selectors import QUEUE_SORTS, incident_queue, incident_sort
from incidents.views import QUEUE_TABS
from org.models import Team

from . import exports, sla
from .delivery import delivery_dashboard
from .drilldown import SHOW, drilldown_incidents
from .filters import scope_for
from .forms import DeliveryFilterForm
from .leadtime import SEGMENTS, lead_time_list, lead_time_summary
from .permissions import can_read_delivery_reports, can_read_sla_reports
from .satisfaction import satisfaction_summary

PAGE_SIZE = 50


def _require_sla_reader(user):
    if not can_read_sla_reports(user):
        raise PermissionDenied("The SLA dashboards are for managers.")


def _require_delivery_reader(user):
    if not can_read_delivery_reports(user):
        raise PermissionDenied("The delivery dashboard is for managers and product owners.")


def _scope_or_400(request):
    """The page's period and filters; scope is None (and the page answers 400) when bad."""
    return scope_for(request.GET)


def _default_team():
    """The development team that closed a sprint most recently (else the first by name)."""
    return (
        Team.objects.filter(is_development=True)
        .annotate(last_closed=Max("sprints__closed_at"))
        .order_by(F("last_closed").desc(nulls_last=True), "name")
        .first()
    )


def _recent_scope(days):
    return scope_for({"start": (timezone.localdate() - timedelta(days=days - 1)).isoformat()})[1]


def sla_dashboard(request):
    _require_sla_reader(request.user)
    form, scope = _scope_or_400(request)
    context = {"form": form, "scope": scope}
    if scope is not None:
        data = sla.sla_dashboard(scope)
        context.update(data)
        context["query"] = urlencode(scope.query())
        context["queue_at_risk"] = urlencode(scope.queue_query(sla_state="at_risk", status="open"))
        context["dimensions"] = [
            ("priority", "Priority", data["by"]["priority"]),
            ("team", "Team", data["by"]["team"]),
            ("service", "Service", data["by"]["service"]),
            ("customer", "Customer", data["by"]["customer"]),
        ]
        context["satisfaction"] = satisfaction = satisfaction_summary(scope)
        context["satisfaction_dimensions"] = [
            ("Team", satisfaction["by"]["team"]),
            ("Service", satisfaction["by"]["service"]),
            ("Customer", satisfaction["by"]["customer"]),
        ]
        context["charts"] = {
            "trend": data["trend"],
            "flow": data["flow"],
            "backlog": data["backlog"],
            "paused": data["paused"],
        }
    return render(request, "dashboards/sla.html", context, status=200 if scope else 400)


def sla_at_risk(request):
    """The live "at risk now" table, refreshed by htmx."""
    _require_sla_reader(request.user)
    _form, scope = _scope_or_400(request)
    if scope is None:
        raise Http404
    at_risk, at_risk_count = sla.at_risk_first(scope)
    return render(
        request,
        "dashboards/_at_risk.html",
        {
            "at_risk": at_risk,
            "at_risk_count": at_risk_count,
            "query": urlencode(scope.query()),
            "queue_at_risk": urlencode(scope.queue_query(sla_state="at_risk", status="open")),
            "now": timezone.now(),
        },
    )


def drilldown(request):
    _require_sla_reader(request.user)
    form, scope = _scope_or_400(request)
    show = request.GET.get("show", "created")
    metric = request.GET.get("metric", "")
    if show not in SHOW:
        show = "created"
    context = {"form": form, "scope": scope, "show": show, "show_label": SHOW[show], "metric": metric}
    if scope is not None:
        qs = (
            drilldown_incidents(scope, show, metric)
            .select_related("team", "service", "customer", "assignee")
            .order_by("-created_at", "-pk")
        )
        context["page"] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context["query"] = urlencode(scope.query(show=show, metric=metric))
    return render(request, "dashboards/drilldown.html", context, status=200 if scope else 400)


def delivery(request):
    _require_delivery_reader(request.user)
    form = DeliveryFilterForm(request.GET or None)
    team = board = None
    days = 42
    if form.is_valid():
        team = form.cleaned_data.get("team")
        board = form.cleaned_data.get("board")
        days = form.cleaned_data.get("days") or days
    elif request.GET:
        return render(request, "dashboards/delivery.html", {"form": form}, status=400)
    if team is None:
        team = _default_team()
    if board is None and team is not None:
        board = Board.objects.filter(teams=team).order_by("pk").first()
    if not form.is_bound:
        form = DeliveryFilterForm(initial={"team": team, "board": board, "days": days})
    data = delivery_dashboard(team, board, days=days)
    scope = _recent_scope(days)
    leads = lead_time_summary(scope) if scope else None
    recent_leads = list(lead_time_list(scope)[:15]) if scope else []
    context = {
        "form": form,
        "team": team,
        "board": board,
        "days": days,
        "lead": leads,
        "recent_leads": recent_leads,
        "segments": SEGMENTS,
        "can_read_sla_reports": can_read_sla_reports(request.user),
        "query": urlencode(
            {
                k: v
                for k, v in (
                    ("team", getattr(team, "pk", "")),
                    ("board", getattr(board, "pk", "")),
                    ("days", days),
                )
                if v
            }
        ),
        **data,
    }
    metrics = data["board_metrics"]
    context["charts"] = {
        "history": data["history"],
        "sources": data["sources"],
        "cfd": metrics["cfd"] if metrics else None,
        "throughput": metrics["throughput"] if metrics else [],
        "cycle": data["cycle_histogram"],
        "lead": leads,
        "recent_leads": [
            {
                "key": e.incident.key,
                **{k: round(getattr(e, k).total_seconds() / 3600, 1) for k, _ in SEGMENTS},
            }
            for e in recent_leads
        ],
    }
    return render(request, "dashboards/delivery.html", context)


# ---------------------------------------------------------------- CSV
def export(request, table):
    """Every dashboard table as CSV, with the page's filters applied."""
    if table in ("velocity", "lead_time"):
        _require_delivery_reader(request.user)
        return _export_delivery(request, table)
    _require_sla_reader(request.user)
    _form, scope = _scope_or_400(request)
    if scope is None:
        return HttpResponseBadRequest("Bad period or filter.")
    stamp = f"{scope.first_day:%Y%m%d}-{scope.last_day:%Y%m%d}"
    if table.startswith("compliance_") and table[11:] in sla.DIMENSIONS:
        dim = table[11:]
        header, rows = exports.dict_rows(
            sla.compliance_by(scope, dim),
            [
                ("label", dim.capitalize(), exports.priority_label if dim == "priority" else _or_none),
                ("response_met", "Response met"),
                ("response_breached", "Response breached"),
                ("response_compliance", "Response compliance %"),
                ("resolution_met", "Resolution met"),
                ("resolution_breached", "Resolution breached"),
                ("resolution_compliance", "Resolution compliance %"),
            ],
        )
    elif table == "trend":
        header, rows = exports.dict_rows(
            sla.compliance_trend(scope),
            [
                ("bucket", "From"),
                ("response", "Response compliance %"),
                ("resolution", "Resolution compliance %"),
            ],
        )
    elif table == "flow":
        header, rows = exports.dict_rows(
            sla.flow(scope), [("bucket", "From"), ("created", "Created"), ("resolved", "Resolved")]
        )
    elif table == "backlog":
        header, rows = exports.dict_rows(
            sla.backlog_age(scope), [("label", "Age"), ("count", "Open incidents")]
        )
    elif table == "paused":
        header, rows = exports.dict_rows(
            sla.paused_by_cause(scope),
            [("label", "Cause"), ("hours", "Hours paused"), ("pauses", "Pauses"), ("incidents", "Incidents")],
        )
    elif table in ("breaches", "at_risk"):
        qs = sla.breaches(scope) if table == "breaches" else sla.at_risk_now(scope)
        header, rows = exports.timer_rows(qs)
    elif table == "incidents":
        show = request.GET.get("show", "created")
        if show not in SHOW:
            raise Http404
        qs = drilldown_incidents(scope, show, request.GET.get("metric", "")).order_by("-created_at", "-pk")
        header, rows = exports.incident_rows(qs)
        table = f"incidents-{show}"
    else:
        raise Http404
    return exports.csv_response(f"tandem-{table}-{stamp}.csv", header, rows)


def _or_none(label):
    return "(none)" if label is None else label


def _export_delivery(request, table):
    form = DeliveryFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponseBadRequest("Bad filter.")
    data = form.cleaned_data if request.GET else {}
    days = data.get("days") or 42
    if table == "velocity":
        team = data.get("team") or _default_team()
        history = delivery_dashboard(team, None)["history"] if team else []
        sources = sorted({key for h in history for key in h["by_source"]})
        header = ["Sprint", "Capacity", "Committed", "Planned", "Velocity", "Unplanned", "Support share %"]
        header += [f"Unplanned: {s}" for s in sources]
        rows = (
            [
                h["name"], h["capacity"], h["committed"], h["planned"], h["velocity"],
                h["unplanned"], h["support_share"], *(h["by_source"].get(s, 0) for s in sources),
            ]
            for h in history
        )  # fmt: skip
        return exports.csv_response(f"tandem-velocity-{getattr(team, 'pk', 'none')}.csv", header, rows)
    qs = lead_time_list(_recent_scope(days))
    header = ["Incident", "Card", "Reported", "Escalated to development", "Delivered"]
    header += [f"{label} (h)" for _, label in SEGMENTS] + ["Total (h)"]

    def rows():
        fields = (
            "incident__key",
            "card__key",
            "reported",
            "at",
            "delivered",
            *(k for k, _ in SEGMENTS),
            "total",
        )
        for e in qs.values_list(*fields).iterator(chunk_size=exports.CHUNK):
            yield [*e[:5], *(round(d.total_seconds() / 3600, 2) for d in e[5:])]

    return exports.csv_response("tandem-lead-time.csv", header, rows())


def export_queue(request):
    """The incident queue as CSV with exactly the queue's tab, filters and sort."""
    if not incident_perms.can_view_incidents(request.user):
        raise PermissionDenied("Your account has no role yet; ask an admin.")
    tab = request.GET.get("tab", "all")
    if tab not in QUEUE_TABS:
        tab = "all"
    sort = request.GET.get("sort", "sla")
    if sort not in QUEUE_SORTS:
        sort = "sla"
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "open"
    filterset = IncidentFilter(data, queryset=incident_queue(user=request.user, tab=tab), request=request)
    if not filterset.is_valid():
        return JsonResponse(filterset.errors, status=400)
    qs = incident_sort(filterset.qs, sort)
    header, rows = exports.incident_rows(qs, extra=(("sla_due_at", "SLA due"),))
    return exports.csv_response(f"tandem-queue-{tab}-{timezone.localdate():%Y%m%d}.csv", header, rows)
