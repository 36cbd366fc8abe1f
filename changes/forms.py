from django import forms

from incidents.models import OPEN_STATUSES, Incident
from org.models import Team
from sprints.models import Sprint, SprintState

from .models import Decision, Kind, Source


class ChangeRequestForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.NORMAL)
    source = forms.ChoiceField(choices=Source.choices, initial=Source.SUPPORT)
    team = forms.ModelChoiceField(
        queryset=Team.objects.filter(is_development=True),
        required=False,
        empty_label="The linked incidents' development team",
        label="Development team",
        help_text="Needed when no linked incident's service has a development team.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Why now, and what it costs not to: required for emergency changes.",
    )
    incidents = forms.ModelMultipleChoiceField(
        queryset=Incident.objects.none(),
        required=False,
        label="Linked incidents",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, extra_incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Incident.objects.filter(status__in=OPEN_STATUSES).order_by("-created_at")
        if extra_incident is not None:
            qs = Incident.objects.filter(
                pk__in=list(qs.values_list("pk", flat=True)[:200]) + [extra_incident.pk]
            )
        else:
            qs = Incident.objects.filter(pk__in=list(qs.values_list("pk", flat=True)[:200]))
        self.fields["incidents"].queryset = qs.order_by("-created_at")
        self.fields["incidents"].label_from_instance = lambda i: f"{i.key} {i.title}"


class TriageForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    sprint = forms.ModelChoiceField(queryset=Sprint.objects.none(), required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required to reject or defer; the requester sees it.",
    )
    estimate = forms.DecimalField(
        max_digits=6,
        decimal_places=1,
        min_value=0,
        max_value=1000,
        required=False,
        label="Estimate",
        help_text="What the emergency change costs the sprint; defaults like an escalated defect "
        "(the team's estimate for the linked incidents' priority, P1 without incidents).",
    )

    def __init__(self, *args, team=None, emergency=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not emergency:
            del self.fields["estimate"]
        else:
            labels = dict(Decision.choices) | {
                Decision.ACCEPT: "Accept into the active sprint (expedite)",
                Decision.SCHEDULE: "Schedule into a sprint (expedite)",
            }
            self.fields["decision"].choices = list(labels.items())
        sprints = Sprint.objects.exclude(state=SprintState.CLOSED).select_related("team")
        if team is not None:
            sprints = sprints.filter(team=team)
        self.fields["sprint"].queryset = sprints.order_by("start")
        self.fields["sprint"].label_from_instance = lambda s: f"{s.name} ({s.get_state_display().lower()})"
