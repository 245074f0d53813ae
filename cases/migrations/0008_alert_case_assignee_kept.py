"""Keep each alert's ``case_assignee`` equal to the assignee of the case it is in.

The alert queue filters and counts alerts by who works their case; joining every alert to its
case link and case for that took 400-700 ms with a million alerts. PostgreSQL keeps the copy
instead, whatever writes the rows (the case services, the admin, bulk updates, raw SQL):

- a case's assignee changes: its alerts follow;
- an alert enters a case (a case link inserted or moved): it takes the case's assignee;
- a case link is deleted: the alert has none;
- any other update of an alert recomputes it (a full save of a stale instance cannot undo it).

Then the copy is filled in for the alerts already in cases (the backfill's UPDATE goes through
the same trigger).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION cases_alert_assignee_of() RETURNS trigger AS $$
BEGIN
    -- Whatever an UPDATE of an alert says, its copy is its case's assignee: a full save of
    -- an alert loaded before it entered a case must not write back a stale value.
    NEW.case_assignee_id := (
        SELECT c.assignee_id FROM cases_casealert AS l JOIN cases_case AS c ON c.id = l.case_id
        WHERE l.alert_id = NEW.id
    );
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION cases_alert_assignee_touch() RETURNS trigger AS $$
BEGIN
    -- Touch the alerts concerned; the BEFORE UPDATE trigger above sets the value.
    IF TG_TABLE_NAME = 'cases_case' THEN
        UPDATE alerts_alert AS a SET case_assignee_id = NEW.assignee_id
        FROM cases_casealert AS l
        WHERE l.case_id = NEW.id AND a.id = l.alert_id;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE alerts_alert SET case_assignee_id = NULL WHERE id = OLD.alert_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        -- Hold the case's assignee still until this link commits: an assignment running at the
        -- same time would not see the link, and the alert would keep the old assignee.
        PERFORM 1 FROM cases_case WHERE id = NEW.case_id FOR SHARE;
        UPDATE alerts_alert SET case_assignee_id = NULL WHERE id = NEW.alert_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE TRIGGER alerts_alert_case_assignee
    BEFORE UPDATE ON alerts_alert FOR EACH ROW
    EXECUTE FUNCTION cases_alert_assignee_of();
CREATE TRIGGER cases_case_assignee_to_alerts
    AFTER UPDATE OF assignee_id ON cases_case FOR EACH ROW
    WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
    EXECUTE FUNCTION cases_alert_assignee_touch();
CREATE TRIGGER cases_casealert_assignee_to_alert
    AFTER INSERT OR DELETE OR UPDATE OF case_id, alert_id ON cases_casealert FOR EACH ROW
    EXECUTE FUNCTION cases_alert_assignee_touch();
"""

BACKFILL = """
UPDATE alerts_alert AS a SET case_assignee_id = c.assignee_id
FROM cases_casealert AS l JOIN cases_case AS c ON c.id = l.case_id
WHERE a.id = l.alert_id AND c.assignee_id IS NOT NULL;
"""

REVERSE = """
DROP TRIGGER IF EXISTS alerts_alert_case_assignee ON alerts_alert;
DROP TRIGGER IF EXISTS cases_case_assignee_to_alerts ON cases_case;
DROP TRIGGER IF EXISTS cases_casealert_assignee_to_alert ON cases_casealert;
DROP FUNCTION IF EXISTS cases_alert_assignee_touch();
DROP FUNCTION IF EXISTS cases_alert_assignee_of();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_case_report_indexes"),
        ("alerts", "0010_alert_case_assignee"),
    ]

    operations = [
        migrations.RunSQL(sql=[FUNCTION, TRIGGERS, BACKFILL], reverse_sql=REVERSE),
    ]
