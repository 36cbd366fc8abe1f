"""Who may read and write knowledge-base articles. The pages, the API, the admin and the
reply box's article picker ask these predicates.

- Every staff member reads every article, internal and public.
- The people who answer customers write them: the service desk, support engineers,
  developers (they write the workaround of a known error) and managers. Product owners read.
- Archiving (and restoring) an article is for its author and managers: an article others
  rely on does not vanish because someone else tidied up.
- Customers (portal contacts) read public articles only; the portal serves them through
  knowledge.selectors.public_articles / suggest_public_articles and never through staff
  pages, so no predicate here grants a non-staff user anything.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import Role, has_role, is_staff_member

from .models import Article

Viewer = AbstractBaseUser | AnonymousUser

WRITER_ROLES = (Role.SERVICE_DESK, Role.SUPPORT_ENGINEER, Role.DEVELOPER, Role.MANAGER)


def can_view_articles(user: Viewer) -> bool:
    """Staff pages and the staff API: every article (internal and public)."""
    return is_staff_member(user)


def can_view_article(user: Viewer, article: Article) -> bool:
    return is_staff_member(user)


def can_create_article(user: Viewer) -> bool:
    return has_role(user, *WRITER_ROLES)


def can_edit_article(user: Viewer, article: Article) -> bool:
    return has_role(user, *WRITER_ROLES)


def can_archive_article(user: Viewer, article: Article) -> bool:
    if has_role(user, Role.MANAGER):
        return True
    return has_role(user, *WRITER_ROLES) and article.author_id is not None and article.author_id == user.pk
