"""The application's database role: it writes every table but cannot change, remove or empty
history, whatever the session asks for."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sentinel.database_roles import history_tables

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role():
    """A role of this test's own (roles are server-wide), dropped afterwards."""
    role = f"sentinel_app_test_{secrets.token_hex(4)}"
    yield role
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def _connect_as(role: str, password: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )


def test_the_app_role_writes_tables_but_cannot_change_or_empty_history(
    app_role, monkeypatch, capsys
):
    # Given the role configured by the command, its password from the environment
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv("SENTINEL_APP_DB_PASSWORD", password)
    call_command("database_app_role", app_role, "--password-env", "SENTINEL_APP_DB_PASSWORD")
    assert "cases_caseevent" in capsys.readouterr().out

    with _connect_as(app_role, password) as db:
        # Then it may read and insert into history, and write ordinary tables
        for table in history_tables():
            assert db.execute(
                "SELECT has_table_privilege(%s, 'SELECT'), has_table_privilege(%s, 'INSERT'),"
                " has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE'),"
                " has_table_privilege(%s, 'TRUNCATE')",
                [table] * 5,
            ).fetchone() == (True, True, False, False, False), table
        db.execute("UPDATE cases_case SET version = version WHERE false")

        # But changing, removing or emptying history is refused by privilege, even by a
        # session that asks for the test-only TRUNCATE exception
        db.execute("SET sentinel.allow_history_truncate = 'on'")
        for statement in (
            "UPDATE cases_caseevent SET type = type",
            "DELETE FROM alerts_alertevent",
            "TRUNCATE rules_ruleversion CASCADE",
            "TRUNCATE audit_auditevent",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(statement)


def test_history_tables_are_found_in_the_catalogue():
    tables = history_tables()
    assert {"cases_caseevent", "alerts_alertevent", "rules_ruleversion"} <= set(tables)
    assert "cases_case" not in tables


def test_bad_role_names_and_a_missing_password_are_refused(monkeypatch):
    with pytest.raises(CommandError, match="plain role name"):
        call_command("database_app_role", 'app"; DROP TABLE cases_case; --')
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="unset or empty"):
        call_command("database_app_role", "sentinel_app_x", "--password-env", "NO_SUCH_PASSWORD")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'sentinel_app_x'")
        assert cursor.fetchone() is None
