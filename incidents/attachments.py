"""Attachments (SPEC §13): every file on an incident is stored through Django's storage API by
`attachment_create`, whoever sends it (the browser, the API, an e-mail), with one size limit
and one naming rule; `can_download` is the read rule for the incident."""

import mimetypes
import re
import unicodedata
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from org.models import Contact

from . import permissions as perms
from .models import PREVIEW_TYPES, Attachment, Comment, Incident

# The first bytes of the image types previewed inline: a file only claims to be an image.
MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def safe_name(name: str) -> str:
    """A file name that is only a name: no directories, no control characters, no leading
    dots, at most 150 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*\s]+', " ", name).strip().lstrip(".").strip()
    if not name:
        name = "attachment"
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 10:
        return f"{stem[: 150 - len(ext) - 1]}.{ext}" if stem else name[:150]
    return name[:150]


def _content_type(name: str, declared: str = "") -> str:
    guessed = mimetypes.guess_type(name)[0]
    declared = (declared or "").split(";")[0].strip().lower()
    return (guessed or declared or "application/octet-stream")[:100]


def too_big_message(size: int) -> str:
    limit = settings.ATTACHMENT_MAX_BYTES
    return f"{size / 1048576:.1f} MB is over the limit of {limit / 1048576:.0f} MB per file."


def attachment_create(
    *,
    incident: Incident,
    upload: Any,
    actor: Any = None,
    contact: Contact | None = None,
    comment: Comment | None = None,
    at: datetime | None = None,
) -> Attachment:
    """Store one file. `upload` is an uploaded file (name, size, content_type, chunks) or a
    (name, bytes, content_type) triple from an e-mail."""
    at = at or timezone.now()
    if isinstance(upload, tuple):
        raw_name, content, declared = upload
        upload = ContentFile(content, name="upload")
        size = len(content)
    else:
        raw_name, declared, size = upload.name, getattr(upload, "content_type", ""), upload.size
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": [f"{safe_name(raw_name)}: {too_big_message(size)}"]})
    name = safe_name(raw_name)
    attachment = Attachment(
        incident=incident,
        comment=comment,
        name=name,
        size=size,
        content_type=_content_type(name, declared),
        uploaded_by=actor,
        contact=contact,
        created_at=at,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


def can_download(user: Any, attachment: Attachment) -> bool:
    """Whoever may see the attachment's incident."""
    return perms.can_view_incidents(user)


def previewable(attachment: Attachment) -> bool:
    """An image type we show inline whose first bytes agree with it."""
    if attachment.content_type not in PREVIEW_TYPES:
        return False
    with attachment.file.open("rb") as f:
        head = f.read(16)
    return any(head.startswith(m) for m in MAGIC[attachment.content_type]) and (
        attachment.content_type != "image/webp" or head[8:12] == b"WEBP"
    )
