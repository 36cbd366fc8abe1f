"""A select widget's options written in Python (templates/django/forms/widgets/select.html).

Django's select template renders a loop per option group and another per option's
attributes: every ungrouped choice is a group of its own, so the queue's filter bar and bulk
bar (16 selects, about a hundred options) rendered two hundred template loops, a tenth of
the page's time. This writes the same HTML as Django's select_option.html and attrs.html —
the same escaping and localisation — in one pass (tests/test_form_widgets.py compares them).
"""

from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _attrs(attrs: dict) -> str:
    # attrs.html: `{{ name }}`, then `="{{ value|stringformat:'s' }}"` unless True; False drops it.
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _option(option: dict) -> str:
    # select_option.html: the value through stringformat:'s' (a plain string: always escaped).
    label = conditional_escape(localize(option["label"]))
    return f'<option value="{escape(option["value"])}"{_attrs(option["attrs"])}>{label}</option>'


@register.simple_tag
def select_options(optgroups) -> SafeString:
    """What select.html's loop over `widget.optgroups` writes, between the select's tags."""
    parts: list[str] = []
    for group_name, group_choices, _index in optgroups:
        if group_name:
            parts.append(format_html('\n  <optgroup label="{}">', localize(group_name)))
        parts.extend(f"\n  {_option(option)}\n" for option in group_choices)
        if group_name:
            parts.append("\n  </optgroup>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
