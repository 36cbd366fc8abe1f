from django import forms


class ContactForm(forms.Form):
    name = forms.CharField(max_length=150, error_messages={"required": "Give the contact's name."})
    email = forms.EmailField(
        max_length=254,
        label="E-mail",
        error_messages={"required": "Give the contact's e-mail address."},
    )
    phone = forms.CharField(max_length=40, required=False)
