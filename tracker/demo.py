"""The demo organisation: a service desk, application support, two development teams,
their services and customers, and one user per role.

Every function here is idempotent (get_or_create by natural key), so running the demo
command twice changes nothing.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from accounts.models import User
from org import services as org_services
from org.models import Customer, Service, ServiceSupportModel, Team, TeamSupportModel

DEMO_PASSWORD = "tandem-demo"  # noqa: S105 - printed for the demo on purpose
ADMIN_PASSWORD = "tandem-admin"  # noqa: S105

# username, first, last, roles, time zone
DEMO_USERS = [
    ("sam", "Sam", "Okafor", ["service_desk"], "Europe/London"),
    ("sara", "Sara", "Lindqvist", ["service_desk"], "Europe/Stockholm"),
    ("tariq", "Tariq", "Haddad", ["support_engineer"], "Europe/London"),
    ("tess", "Tess", "Moreau", ["support_engineer"], "Europe/Paris"),
    ("dev", "Devon", "Park", ["developer"], "America/New_York"),
    ("dana", "Dana", "Kowalski", ["developer"], "Europe/Warsaw"),
    ("diego", "Diego", "Alvarez", ["developer"], "Europe/Madrid"),
    ("dora", "Dora", "Nakamura", ["developer"], "Asia/Tokyo"),
    ("paula", "Paula", "Brennan", ["product_owner"], "Europe/Dublin"),
    ("max", "Max", "Schneider", ["manager"], "Europe/Berlin"),
]


@dataclass
class DemoContext:
    users: dict = field(default_factory=dict)
    teams: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


DEMO_CONTACTS = [
    ("Northwind Traders", "Ana Lopez", "ana@northwind.example"),
    ("Northwind Traders", "Carl Jensen", "carl@northwind.example"),
    ("Contoso Retail", "Priya Raman", "priya@contoso.example"),
    ("Fabrikam Foods", "Jonas Weber", "jonas@fabrikam.example"),
    ("Tailspin Travel", "Claire Martin", "claire@tailspin.example"),
    ("Globex Energy", "Daan de Vries", "daan@globex.example"),
]


def logins_text():
    lines = [f"  Demo logins (password for all but admin: {DEMO_PASSWORD})"]
    lines.append(f"    {'admin':<8} admin (superuser, password {ADMIN_PASSWORD})")
    for username, first, last, roles, _tz in DEMO_USERS:
        lines.append(f"    {username:<8} {first} {last} — {', '.join(roles)}")
    return "\n".join(lines)


def _user(username, first, last, roles, tz):
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.com",
            "time_zone": tz,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in roles))
    return user


def seed_organisation(log) -> DemoContext:
    ctx = DemoContext()
    admin, created = User.objects.get_or_create(
        username="admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com", "first_name": "Ada"},
    )
    if created:
        admin.set_password(ADMIN_PASSWORD)
        admin.save(update_fields=["password"])
    ctx.users["admin"] = admin
    for row in DEMO_USERS:
        ctx.users[row[0]] = _user(*row)
    log(f"{len(ctx.users)} users")

    u = ctx.users
    team_specs = [
        ("Service Desk", 1, False, ["sam", "sara"], "sam", {}),
        ("Application Support", 2, False, ["tariq", "tess"], "tariq", {}),
        (
            "Payments Dev",
            3,
            True,
            ["dev", "dana", "diego"],
            "dana",
            {"capacity_unit": "points", "support_model": TeamSupportModel.ROTATION},
        ),
        (
            "Portal Dev",
            3,
            True,
            ["dora"],
            "dora",
            {"capacity_unit": "hours", "support_model": TeamSupportModel.SHARED},
        ),
    ]
    for name, tier, is_dev, members, lead, extra in team_specs:
        team, _ = Team.objects.get_or_create(
            name=name, defaults={"tier": tier, "is_development": is_dev, "lead": u[lead], **extra}
        )
        team.members.add(*[u[m] for m in members])
        ctx.teams[name] = team
    log(f"{len(ctx.teams)} teams")

    t = ctx.teams
    service_specs = [
        ("Payments API", "Card and bank payments for merchants.", "Payments Dev", ServiceSupportModel.TIERED),
        (
            "Merchant Portal",
            "Web portal where merchants see sales and payouts.",
            "Portal Dev",
            ServiceSupportModel.TIERED,
        ),
        ("Payouts", "Daily settlement of merchant balances.", "Payments Dev", ServiceSupportModel.TIERED),
        ("Reporting", "Statements, audit data sets and exports.", "Portal Dev", ServiceSupportModel.SWARM),
    ]
    for name, description, dev_team, model in service_specs:
        support = t["Application Support"] if model == ServiceSupportModel.SWARM else t["Service Desk"]
        service, _ = Service.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "team": t[dev_team],
                "support_team": support,
                "support_model": model,
            },
        )
        ctx.services[name] = service
    log(f"{len(ctx.services)} services")

    for name, country in [
        ("Northwind Traders", "GB"),
        ("Contoso Retail", "US"),
        ("Fabrikam Foods", "DE"),
        ("Tailspin Travel", "FR"),
        ("Globex Energy", "NL"),
    ]:
        ctx.customers[name], _ = Customer.objects.get_or_create(name=name, defaults={"country": country})
    # People at the customers, so the log form's requester search finds someone.
    for customer, name, email in DEMO_CONTACTS:
        org_services.contact_get_or_create(customer=ctx.customers[customer], email=email, name=name)
    log(f"{len(ctx.customers)} customers, {len(DEMO_CONTACTS)} contacts")
    return ctx
