"""`manage.py database_app_role <role>`: the application's own database role, which cannot
change or remove history (sentinel.database_roles)."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from sentinel.database_roles import app_role_configure


class Command(BaseCommand):
    help = (
        "Create or update the login role the application runs as: every table readable and "
        "writable, except no UPDATE, DELETE or TRUNCATE on history tables. Run it as the "
        "tables' owner, after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role's name, e.g. sentinel_app.")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Set the role's password from this environment variable (never on the command "
            "line, where other users of the machine could read it).",
        )

    def handle(self, *, role: str, password_env: str | None, **options) -> None:
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"The environment variable {password_env} is unset or empty.")
        try:
            tables = app_role_configure(role=role, password=password)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{role}: reads and writes every table; only reads and inserts into "
            f"{len(tables)} history tables ({', '.join(tables)})."
        )
