"""``manage.py import_list FORMAT FILE``: import a published list file as a diff."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...choices import ListKind, ListSource
from ...formats import ListFormatError
from ...services import screening_list_import


class Command(BaseCommand):
    help = "Import a sanctions or PEP list file in its published format (docs/screening.md)."

    def add_arguments(self, parser):
        parser.add_argument("format", choices=ListSource.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--list", dest="list_name", help="list name (default: the format)")
        parser.add_argument("--kind", choices=ListKind.values, default=ListKind.SANCTIONS)
        parser.add_argument("--user", help="the officer importing (needed when entries go)")

    def handle(self, *args, format: str, file: Path, list_name, kind, user, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user {user!r}.")
        try:
            result = screening_list_import(
                list_name=list_name or format,
                source=format,
                content=file.read_bytes(),
                kind=kind,
                file_name=file.name,
                actor=actor,
            )
        except (ListFormatError, ValidationError) as error:
            raise CommandError(f"Nothing was imported: {_message(error)}") from None
        self.stdout.write(
            f"{result.screening_list.name} {result.version}: {result.added} added, "
            f"{result.changed} changed, {result.unchanged} unchanged, "
            f"{result.removed} to remove"
            + (" (awaiting another officer's approval)" if result.removed else "")
        )


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)
