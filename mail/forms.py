from django import forms

from org.models import Customer, Service

from .models import Outcome


class MailboxForm(forms.Form):
    name = forms.CharField(max_length=100)
    address = forms.EmailField(label="Support address")
    imap_url = forms.CharField(
        max_length=500,
        required=False,
        label="IMAP address",
        help_text="imap://user:password@host:port or imaps://user:password@host. Leave the password out "
        "to keep the stored one.",
    )
    folder = forms.CharField(max_length=200, initial="INBOX")
    default_service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), label="Default service"
    )
    default_customer = forms.ModelChoiceField(
        queryset=Customer.objects.order_by("name"),
        required=False,
        label="Customer for unknown senders",
        empty_label="None: log their mail as failed",
    )
    acknowledge = forms.BooleanField(required=False, initial=True, label="Acknowledge new incidents")
    active = forms.BooleanField(required=False, initial=True, label="Poll this mailbox")


class MailLogFilter(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "All outcomes")] + [c for c in Outcome.choices if c[0] != "processing"], required=False
    )
