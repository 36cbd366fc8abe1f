"""`{% load sprint_tags %}{% sprint_banner board %}` shows a board's active sprint and who
is on support; `{{ value|qty }}` prints a capacity number without a needless ".0"."""

from decimal import Decimal

from django import template

from sprints.selectors import active_sprint_for_board

register = template.Library()


@register.inclusion_tag("sprints/_banner.html")
def sprint_banner(board):
    return {"sprint": active_sprint_for_board(board)}


@register.filter
def qty(value):
    if value is None:
        return "–"
    value = Decimal(str(value)).quantize(Decimal("0.1"))
    return f"{value:f}".removesuffix(".0")
