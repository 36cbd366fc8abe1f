from django import forms

from boards.models import Card, ColumnCategory
from org.models import Team


class EscalateToDevelopmentForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(is_development=True), label="Development team")
    card = forms.ModelChoiceField(
        queryset=Card.objects.none(),
        required=False,
        empty_label="Create a new production defect card",
        label="Card",
        help_text="Or link an open card that already covers this defect.",
    )
    estimate = forms.DecimalField(
        min_value=0,
        max_value=1000,
        decimal_places=1,
        required=False,
        help_text="Empty: the team's default for the priority.",
    )
    into_sprint = forms.BooleanField(
        required=False,
        label="Put it into the current sprint",
        help_text="P1/P2 always go into the active sprint; lower priorities go to the backlog unless ticked.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What development needs to know: steps to reproduce, logs, customers affected.",
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        team = incident.service.team
        if team is not None:
            self.fields["team"].initial = team.pk
        team_id = self.data.get("team") or (team.pk if team else None)
        self.fields["card"].queryset = (
            Card.objects.filter(board__teams=team_id, cancelled_at__isnull=True)
            .exclude(column__category=ColumnCategory.DONE)
            .order_by("-created_at")[:100]
            if team_id
            else Card.objects.none()
        )
        self.fields["card"].label_from_instance = lambda c: f"{c.key} {c.title}"
        self.fields["estimate"].widget.attrs["placeholder"] = str(
            (team.default_estimates or {}).get(incident.priority, "") if team else ""
        )

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "team": data["team"],
            "card": data.get("card"),
            "estimate": data.get("estimate"),
            "into_sprint": True if data.get("into_sprint") else None,
            "note": data.get("note", ""),
        }
