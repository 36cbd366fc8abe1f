from django import forms

from org.models import Service

from .models import Visibility


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Article",
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "markdown-source", "spellcheck": "true"}),
        help_text="Markdown: # heading, **bold**, - list, 1. steps, `code`, [text](https://…), | tables |. "
        "Images are shown as links.",
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.INTERNAL,
        widget=forms.RadioSelect,
        help_text="Public articles may be sent to customers and shown on the portal.",
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="Every service",
        help_text="Agents working an incident on this service see the article first.",
    )
    note = forms.CharField(
        label="What changed",
        max_length=300,
        required=False,
        help_text="Optional; shown in the history.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, creating=False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["version"]
            self.fields["note"].label = "Note"
            self.fields["note"].help_text = "Optional; shown as the first entry of the history."
