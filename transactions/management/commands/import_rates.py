"""``manage.py import_rates FILE``: store the ECB's euro reference rates (docs/currencies.md)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from transactions.services import RateFileError, exchange_rates_import


class Command(BaseCommand):
    help = (
        "Import ECB euro reference rates: eurofxref-hist.csv (the history), eurofxref.csv "
        "(one day), or the .zip the ECB serves them in. Idempotent; a malformed file changes "
        "nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Path to the CSV file, or to a .zip holding one.")

    def handle(self, *args, file: str, **options) -> None:
        try:
            result = exchange_rates_import(text=_read(Path(file)))
        except RateFileError as error:
            raise CommandError(f"{file}: {error.messages[0]} Nothing was imported.") from error
        self.stdout.write(
            f"{result.first_day} to {result.last_day}: {result.added} added, "
            f"{result.changed} changed, {result.unchanged} unchanged."
        )


def _read(path: Path) -> str:
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
                if len(names) != 1:
                    raise CommandError(f"{path}: expected one CSV file in the archive.")
                return archive.read(names[0]).decode("utf-8-sig")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot read it ({error}).") from error
