"""How case files leave the server: as downloads that never render in the browser, never
cached, for both the pages and the API (the callers have checked who may see the case)."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404

from .models import CaseAttachment, SarFile
from .sar.exports import MEDIA_TYPES


def attachment_download(*, case_id: int, attachment_id: int) -> FileResponse:
    attachment = get_object_or_404(CaseAttachment, pk=attachment_id, case_id=case_id)
    return _download(attachment.file, attachment.filename, attachment.content_type)


def sar_file_download(*, case_id: int, file_id: int) -> FileResponse:
    sar_file = get_object_or_404(SarFile, pk=file_id, report__case_id=case_id)
    return _download(sar_file.file, sar_file.filename, MEDIA_TYPES[sar_file.format])


def _download(stored, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(
        stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
