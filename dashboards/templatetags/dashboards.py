from django import template

register = template.Library()


@register.filter
def duration(seconds):
    """Seconds as a short human duration: "2 d 3 h", "3 h 20 min", "45 min"."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def pct(value):
    return "—" if value is None else f"{value:g} %"


@register.filter
def hours(delta):
    """A timedelta as hours with one decimal."""
    if delta is None:
        return "—"
    return f"{delta.total_seconds() / 3600:.1f}"


@register.filter
def words(value):
    """A code like "emergency_change" as words: "Emergency change"."""
    return str(value).replace("_", " ").capitalize()
