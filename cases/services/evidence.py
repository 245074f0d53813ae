"""Notes, attachments and tags: evidence added to an active case by anyone who works cases."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction as db_transaction
from django.utils.text import get_valid_filename

from .. import events
from ..models import MAX_NOTE_LENGTH, MAX_TAG_LENGTH, MAX_TAGS, Case, CaseAttachment, CaseNote
from ..permissions import Action, require
from .workflow import _locked, _require_active, _save

# Accepted evidence: extension -> (content type served, magic prefixes; None = UTF-8 text).
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain; charset=utf-8", None),
    ".csv": ("text/csv; charset=utf-8", None),
    ".eml": ("message/rfc822", None),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
}
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def case_add_note(*, case: Case, actor, body: str, expected_version: int | None = None):
    """Add a markdown note (stored as typed; rendered sanitised by cases.markdown)."""
    require(actor, Action.NOTE)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["A note cannot be empty."]})
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationError({"body": [f"A note is at most {MAX_NOTE_LENGTH} characters."]})
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _require_active(case)
        note = CaseNote.objects.create(case=case, author=actor, body=body)
        events.note_added(case, actor, note_id=note.pk)
        _save(case)
    return note


def case_add_attachment(*, case: Case, actor, upload: UploadedFile) -> CaseAttachment:
    """Store an evidence file outside the web root, after checking its size and type."""
    require(actor, Action.ATTACH)
    filename, content_type = _checked(upload)
    with db_transaction.atomic():
        case = _locked(case, None)
        _require_active(case)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        attachment = CaseAttachment(
            case=case,
            uploaded_by=actor,
            filename=filename,
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        attachment.file.save(filename, upload, save=False)
        try:
            attachment.save()
            events.attachment_added(case, actor, attachment=attachment)
            _save(case)
        except Exception:
            attachment.file.delete(save=False)  # no orphan file when the rows are refused
            raise
    return attachment


def _checked(upload: UploadedFile) -> tuple[str, str]:
    """(safe file name, content type) or ValidationError: size, extension and content agree."""
    limit = settings.SENTINEL_ATTACHMENT_MAX_BYTES
    if upload.size == 0:
        raise ValidationError({"file": ["The file is empty."]}, code="empty")
    if upload.size > limit:
        raise ValidationError(
            {"file": [f"The file is {upload.size:,} bytes; the limit is {limit:,}."]},
            code="too_large",
        )
    name = get_valid_filename(os.path.basename(upload.name or ""))[-150:] or "file"
    extension = os.path.splitext(name)[1].lower()
    if extension not in ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(ATTACHMENT_TYPES))
        raise ValidationError(
            {"file": [f"Files of type {extension or '(none)'} are refused; allowed: {allowed}."]},
            code="refused_type",
        )
    content_type, magic = ATTACHMENT_TYPES[extension]
    head = upload.read(4096)
    upload.seek(0)
    if magic is None:
        if b"\x00" in head or not _utf8_prefix(head):
            raise ValidationError({"file": ["The file is not UTF-8 text."]}, code="refused_type")
    elif not head.startswith(magic):
        raise ValidationError(
            {"file": [f"The file's content is not {extension[1:].upper()}."]},
            code="refused_type",
        )
    return name, content_type


def _utf8_prefix(head: bytes) -> bool:
    """Valid UTF-8, allowing a character cut at the end of the sample."""
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def case_tag(
    *,
    case: Case,
    actor,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    expected_version: int | None = None,
) -> Case:
    """Add and remove tags. Changes merge with concurrent ones: nobody's tag is lost."""
    require(actor, Action.TAG)
    add, remove = _tags(add), _tags(remove)
    with db_transaction.atomic():
        case = _locked(case, expected_version)
        _require_active(case)
        tags = [tag for tag in case.tags if tag not in remove]
        added = [tag for tag in add if tag not in tags]
        tags += added
        removed = [tag for tag in case.tags if tag in remove]
        if len(tags) > MAX_TAGS:
            raise ValidationError({"tags": [f"A case has at most {MAX_TAGS} tags."]})
        if added or removed:
            case.tags = tags
            events.tagged(case, actor, added=added, removed=removed)
            _save(case, "tags")
    return case


def _tags(values: Iterable[str]) -> list[str]:
    tags: list[str] = []
    for value in values:
        tag = re.sub(r"\s+", "-", (value or "").strip().lower())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag):
            raise ValidationError(
                {"tags": [f"{value!r}: use up to {MAX_TAG_LENGTH} letters, digits, - or _."]}
            )
        if tag not in tags:
            tags.append(tag)
    return tags
