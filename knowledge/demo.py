"""Demo articles: what the Payments support desk has written down — public how-tos the
customers get in replies and on the portal, and internal runbooks for the agents — one of
them edited twice so its history reads naturally. Idempotent: skipped once the first exists.
"""

from datetime import timedelta

from django.utils import timezone

from .models import Article, Visibility
from .services import article_create, article_update

FIRST_TITLE = "Portal login page blank or looping in Safari"

# title, visibility, service (None: every service), author, days ago, body
ARTICLES = [
    (
        FIRST_TITLE,
        Visibility.PUBLIC,
        "Merchant Portal",
        "tess",
        21,
        """Some merchants using **Safari 17** see a blank login page, or are sent back to the
login page after signing in.

## Workaround

1. Open **Safari › Settings › Privacy**.
2. Turn off *Prevent cross-site tracking* for the merchant portal, or use another browser.
3. Close every portal tab and sign in again.

We are working on a fix; your incident stays open until it is released.
""",
    ),
    (
        "Payouts delayed after a bank holiday",
        Visibility.PUBLIC,
        "Payouts",
        "tariq",
        40,
        """Payouts are settled on **banking days** only. A payout due on a bank holiday is sent on
the next banking day and usually arrives the day after.

| Payout due on | Sent on | Usually arrives |
|:--|:--|:--|
| Friday, holiday | Monday | Tuesday |
| Monday, holiday | Tuesday | Wednesday |

No action is needed. If a payout is more than **two banking days** late, reply to your
incident with the payout date and the amount.
""",
    ),
    (
        "Password reset e-mails arrive late",
        Visibility.PUBLIC,
        None,
        "sam",
        30,
        """Reset e-mails can take up to an hour when your mail provider greylists new senders.

- Check your spam or junk folder for mail from `no-reply@tandem-pay.example`.
- Ask your IT team to allow that address.
- Each new reset link replaces the previous one: use the **latest** e-mail only.
""",
    ),
    (
        "Downloading the monthly statement",
        Visibility.PUBLIC,
        "Reporting",
        "sara",
        55,
        """Statements for the previous month are ready on the **3rd working day**.

1. Sign in to the merchant portal.
2. Open **Reports › Statements** and choose the month.
3. Choose **Download PDF** (or CSV for your accounting system).

Only users with the *Finance* role see the Statements page; your account admin can add it.
""",
    ),
    (
        "Runbook: card payments failing with 502 at checkout",
        Visibility.INTERNAL,
        "Payments API",
        "tariq",
        14,
        """Internal: the gateway's answer when its pods cannot reach the acquirer.

## Check

- Grafana *Gateway / upstream errors*: a spike on `acquirer-eu` confirms it.
- `kubectl -n payments get pods -l app=gateway`: restarts climbing?

## Act

1. Declare a **major incident** when more than one merchant is affected.
2. If the certificate rotated in the last hour, roll back `gateway-tls` (see the change log).
3. Post a public reply every 30 minutes, even with no news.

Escalate to **Payments Dev** once the pods are stable but errors continue.
""",
    ),
    (
        "Correcting a VAT number on invoices (data correction)",
        Visibility.INTERNAL,
        "Reporting",
        "tess",
        25,
        """A service request, not an incident: the customer's admin must confirm the new number in
writing (mail or portal reply) before we change anything.

1. Check the number in the EU VIES service.
2. Ask Reporting on-call to run the `invoice_vat_fix` job for the merchant id.
3. Re-issued invoices go out the next morning; tell the customer which invoice numbers changed.
""",
    ),
]


def seed(ctx, log):
    if Article.objects.filter(title=FIRST_TITLE).exists():
        log("knowledge base articles already there")
        return
    now = timezone.now()
    for title, visibility, service, author, days, body in ARTICLES:
        article_create(
            actor=ctx.users[author],
            title=title,
            body=body,
            visibility=visibility,
            service=ctx.services[service] if service else None,
            at=now - timedelta(days=days),
        )
    # The Safari article grew as the problem was understood: two edits by two people.
    safari = Article.objects.get(title=FIRST_TITLE)
    safari = article_update(
        article=safari,
        actor=ctx.users["tariq"],
        data={"body": safari.body.replace("or use another browser.", "or use Chrome or Firefox meanwhile.")},
        note="Name the browsers that work",
        at=now - timedelta(days=12),
    )
    article_update(
        article=safari,
        actor=ctx.users["sam"],
        data={"body": safari.body + "\nMerchants on **iPad** are affected too.\n"},
        note="iPad reports from the desk",
        at=now - timedelta(days=3),
    )
    log(f"{len(ARTICLES)} knowledge base articles")
