"""Case history moves from its own trigger function (0002, 0004) to the shared one
(sentinel.history), which also refuses TRUNCATE."""

from django.db import migrations

from sentinel.history import append_only_triggers

TABLES = ["cases_caseevent", "cases_casenote", "cases_caseattachment", "cases_sarfile"]

OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION cases_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
OLD_TRIGGERS = [
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION cases_append_only();"
    for table in TABLES
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_suspicious_activity_reports"),
        ("sentinel", "0002_append_only_function"),
    ]

    operations = [
        # Backwards this runs last: the old triggers come back once the new ones are gone.
        migrations.RunSQL(migrations.RunSQL.noop, OLD_TRIGGERS),
        *(append_only_triggers(table) for table in TABLES),  # replaces the old same-named ones
        migrations.RunSQL("DROP FUNCTION IF EXISTS cases_append_only();", OLD_FUNCTION),
    ]
