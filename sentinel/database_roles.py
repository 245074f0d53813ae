"""The database role the application runs as in production, apart from the role that owns the
tables (docs/operations.md § Database roles).

The owner runs the migrations. The application role reads and writes every table, but holds
no UPDATE, DELETE or TRUNCATE on history tables: beyond the triggers of ``sentinel.history``
(which a table's owner could disable, and whose TRUNCATE exception a session can ask for), the
database refuses it the privilege itself.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db import transaction as db_transaction

from sentinel.history import FUNCTION

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def history_tables() -> list[str]:
    """Every table the append-only trigger guards (found in the catalogue, so a history table
    a later migration adds is never missed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE p.proname = %s AND NOT t.tgisinternal ORDER BY c.relname",
            [FUNCTION],
        )
        return [name for (name,) in cursor.fetchall()]


def app_role_configure(*, role: str, password: str | None = None) -> list[str]:
    """Create (or bring up to date) ``role`` as the application's login role on this database;
    returns the history tables it may only read and insert into. Idempotent: run it after
    every ``migrate``, so new tables get their grants."""
    if not _ROLE_NAME.match(role):
        raise ValueError(
            f"{role!r} is not a plain role name: lower-case letters, digits and _ (at most 63)."
        )
    quote = connection.ops.quote_name
    name, database = quote(role), quote(connection.settings_dict["NAME"])
    tables = history_tables()
    with db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {name} LOGIN")
        if password:
            cursor.execute(f"ALTER ROLE {name} PASSWORD %s", [password])
        cursor.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {name}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"
        )
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}")
        cursor.execute(f"REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {name}")
        for table in tables:
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(table)} FROM {name}")
    return tables
