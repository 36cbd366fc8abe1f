"""Who reads which report. One predicate per report, asked by the pages, their CSV exports,
the API and the navigation alike, so no entry point grants more than another.

- SLA reports (the SLA dashboard, its drill-downs, the at-risk table, their CSV exports
  and `GET /api/v1/metrics/sla/`): managers, and admins. They compare teams, services and
  customers against their agreements, which is the manager's job (SPEC §2, §9).
- Delivery reports (the delivery dashboard: velocity, planned vs unplanned work, the
  support tax, flow, lead time across tiers, and their CSV exports): managers and product
  owners, and admins. Product owners plan sprints around the support tax; the page is theirs
  as much as the manager's.
- The incident queue's CSV export: everyone who reads incidents (it is the queue they see).
- The configuration audit log (`/audit/`, its CSV, `GET /api/v1/audit-log/`): managers, and
  admins; who changed which setting is a manager's question (SPEC §16).
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role

User = AbstractBaseUser | AnonymousUser

SLA_REPORT_READERS = (Role.MANAGER,)
DELIVERY_REPORT_READERS = (Role.MANAGER, Role.PRODUCT_OWNER)


def can_read_sla_reports(user: User) -> bool:
    """SLA compliance, breaches, at-risk clocks, MTTA/MTTR: managers (superusers hold every role)."""
    return has_role(user, *SLA_REPORT_READERS)


def can_read_audit_log(user: User) -> bool:
    """Who changed which configuration, when, old → new: managers."""
    return has_role(user, Role.MANAGER)


def can_read_delivery_reports(user: User) -> bool:
    """Velocity, the support tax, flow and lead time: managers and product owners."""
    return has_role(user, *DELIVERY_REPORT_READERS)
