"""The search page, /search/?q=: every kind of record matching, best first."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse

from .forms import SearchForm
from .permissions import can_search
from .selectors import global_search, kinds_for


def search(request):
    if not can_search(request.user):
        raise PermissionDenied("Search is for staff; your account has no role yet.")
    form = SearchForm(request.GET)
    results, text, kind = [], "", ""
    status = 200
    if form.is_valid():
        text, kind = form.cleaned_data["q"], form.cleaned_data["type"]
        results = global_search(user=request.user, text=text, kind=kind or None)
    else:
        text = request.GET.get("q", "")
        status = 400
    kinds = kinds_for(request.user)
    context = {
        "form": form,
        "q": text,
        "kind": kind,
        "kinds": [
            {"name": k.name, "label": k.label, "url": "?" + urlencode({"q": text, "type": k.name})}
            for k in kinds
        ],
        "everything_url": "?" + urlencode({"q": text}),
        "results": results,
        "queue_url": reverse("incidents:queue")
        + "?"
        + urlencode({"search": text, "status": "", "tab": "all"}),
    }
    return render(request, "search/results.html", context, status=status)
