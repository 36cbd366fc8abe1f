from django import forms

from .selectors import KINDS

MAX_LENGTH = 200


class SearchForm(forms.Form):
    """The search box's query: the page and the API read it alike."""

    q = forms.CharField(
        label="Search",
        max_length=MAX_LENGTH,
        required=False,
        strip=True,
        error_messages={"max_length": f"Keep the search under {MAX_LENGTH} characters."},
    )
    type = forms.ChoiceField(
        choices=[("", "Everything"), *[(k.name, k.label) for k in KINDS]], required=False, label="Only"
    )

    def __init__(self, *args, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if required:
            self.fields["q"].required = True
            self.fields["q"].error_messages["required"] = "Give the words to search for."
