"""The main navigation.

Each app adds its entry here; an entry whose URL does not resolve yet (the app has no
pages so far) is simply not shown, so the menu never links to a page that does not exist.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from accounts.roles import has_role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...] = ()  # empty: every signed-in user


NAV_ITEMS = (
    NavItem("Queue", "incidents:queue"),
    NavItem("Log incident", "incidents:create"),
    NavItem("Boards", "boards:list"),
    NavItem("Releases", "boards:releases"),
    NavItem("Sprints", "sprints:list"),
    NavItem("Changes", "changes:list"),
    NavItem("Problems", "problems:list"),
    NavItem("Knowledge", "knowledge:list"),
    NavItem("Customers", "customers:list"),
    NavItem("Triage", "changes:triage", ("product_owner", "manager")),
    NavItem("Dashboards", "dashboards:sla", ("manager",)),
    NavItem("Delivery", "dashboards:delivery", ("manager", "product_owner")),  # dashboards.permissions
    NavItem("SLA settings", "sla:settings", ("manager",)),
    NavItem("Webhooks", "webhooks:list", ("manager",)),
    NavItem("Mail", "mail:log", ("manager",)),
    NavItem("Audit log", "audit:log", ("manager",)),
)


def nav_for(user):
    items = []
    for item in NAV_ITEMS:
        if item.roles and not has_role(user, *item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "url_name": item.url_name})
    return items
