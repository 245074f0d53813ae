"""Append-only history: the one base every history table uses (docs/history.md).

A history row (a case event, a rule version, an alert event, an audit entry...) is written
once and never changed. Two layers say so:

- ``AppendOnlyModel`` refuses, in Python, ``save()`` of a stored row, ``delete()``, and
  ``QuerySet.update()`` / ``delete()`` / ``bulk_update()``, with ``AppendOnlyError``.
- The database refuses whatever path gets past the ORM (raw SQL, another client, a cascade):
  the shared trigger function ``sentinel_append_only()`` (migration ``sentinel`` 0002) runs
  BEFORE UPDATE OR DELETE (per row) and BEFORE TRUNCATE (per statement) on every history table;
  each app's migration attaches it with ``append_only_triggers(table)``.

``AppendOnlyError`` is an ``IntegrityError``, the same class the database's refusal arrives as,
so callers handle both alike.
"""

from __future__ import annotations

from django.db import IntegrityError, migrations, models

FUNCTION = "sentinel_append_only"

# TRUNCATE alone may be let through, and only by a connection that asked for it: Django's test
# runner empties every table with one TRUNCATE after a transactional test (``flush``), so the
# test settings set this for their connections. UPDATE and DELETE have no way around.
ALLOW_TRUNCATE_SETTING = "sentinel.allow_history_truncate"

FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('{ALLOW_TRUNCATE_SETTING}', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% on %: history rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Record a new row instead of changing or removing an old one.';
END;
$$ LANGUAGE plpgsql;
"""


class AppendOnlyError(IntegrityError):
    """A history row was about to be changed or deleted."""


def _refuse(model: type[models.Model], what: str) -> AppendOnlyError:
    return AppendOnlyError(
        f"{model.__name__} rows are append-only: {what} is refused; record a new row instead."
    )


class AppendOnlyQuerySet(models.QuerySet):
    """Reads and inserts as usual; bulk changes and deletes are refused."""

    def update(self, **kwargs):
        raise _refuse(self.model, "update")

    def bulk_update(self, objs, fields, batch_size=None):
        raise _refuse(self.model, "update")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise _refuse(self.model, "update")

    def delete(self):
        raise _refuse(self.model, "delete")

    delete.alters_data = True
    delete.queryset_only = True

    def _raw_delete(self, using):
        raise _refuse(self.model, "delete")


class AppendOnlyModel(models.Model):
    """Base of every history model: rows are inserted, then only read."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding or kwargs.get("update_fields") is not None:
            raise _refuse(type(self), "changing a stored row")
        # An explicit primary key must never turn the insert into an UPDATE of a stored row.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _refuse(type(self), "delete")


def _trigger_names(table: str) -> tuple[str, str]:
    return f"{table}_append_only", f"{table}_append_only_truncate"


def append_only_triggers(table: str) -> migrations.RunSQL:
    """The migration operation that puts ``table`` under ``sentinel_append_only()``."""
    row, statement = _trigger_names(table)
    return migrations.RunSQL(
        sql=[
            f"DROP TRIGGER IF EXISTS {row} ON {table};",
            f"CREATE TRIGGER {row} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();",
            f"CREATE TRIGGER {statement} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();",
        ],
        reverse_sql=[
            f"DROP TRIGGER IF EXISTS {statement} ON {table};",
            f"DROP TRIGGER IF EXISTS {row} ON {table};",
        ],
    )
