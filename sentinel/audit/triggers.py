"""The database side of the audit trail: one trigger function, attached to every audited table.

A row trigger sees every change, whatever made it: the admin, a service, a bulk ``update()``,
a raw SQL statement or another client. Who made it comes from the request's context, which
``sentinel.audit.middleware`` puts in front of each writing statement with
``pghistory.context`` (the ``pghistory.context_metadata`` setting, local to the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations

FUNCTION = "sentinel_audit_row"

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION sentinel_audit_row() RETURNS trigger AS $$
DECLARE
    label text := TG_ARGV[0];
    pk text := TG_ARGV[1];
    redacted text[] := string_to_array(TG_ARGV[2], ',');
    ignored text[] := string_to_array(TG_ARGV[3], ',');
    old_row jsonb;
    new_row jsonb;
    context jsonb;
    actor bigint;
    name text := '';
    col text;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' AND (old_row - ignored) = (new_row - ignored) THEN
        RETURN NULL;  -- nothing that matters changed (e.g. only last_login)
    END IF;
    FOREACH col IN ARRAY redacted LOOP
        IF old_row ? col THEN
            old_row := jsonb_set(old_row, ARRAY[col], '"[redacted]"');
        END IF;
        IF new_row ? col THEN
            new_row := jsonb_set(
                new_row, ARRAY[col],
                CASE WHEN TG_OP = 'UPDATE' AND to_jsonb(OLD) -> col IS DISTINCT FROM new_row -> col
                     THEN '"[redacted, changed]"'::jsonb ELSE '"[redacted]"'::jsonb END
            );
        END IF;
    END LOOP;

    context := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    IF context ->> 'user' ~ '^[0-9]+$' THEN
        actor := (context ->> 'user')::bigint;
        SELECT username INTO name FROM auth_user WHERE id = actor;
    END IF;

    INSERT INTO audit_auditevent (
        at, action, model, object_id, before, after, actor_id, actor_username,
        method, path, ip_address, context_id
    ) VALUES (
        clock_timestamp(), lower(TG_OP), label,
        left(coalesce(new_row, old_row) ->> pk, 64), old_row, new_row, actor, coalesce(name, ''),
        left(coalesce(context ->> 'method', ''), 10), left(coalesce(context ->> 'url', ''), 500),
        CASE WHEN context ->> 'ip' ~ '^[0-9a-fA-F:.]+$' THEN (context ->> 'ip')::inet END,
        NULLIF(current_setting('pghistory.context_id', true), '')::uuid
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


@dataclass(frozen=True)
class Audited:
    """One audited table: its rows' label in the trail, primary key, and the columns whose
    values are never copied (``redact``) or whose change alone is not worth a row (``ignore``)."""

    table: str
    label: str
    pk: str = "id"
    redact: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def operation(self) -> migrations.RunSQL:
        name = f"{self.table}_audit"
        arguments = ", ".join(
            f"'{value}'"
            for value in (self.label, self.pk, ",".join(self.redact), ",".join(self.ignore))
        )
        return migrations.RunSQL(
            sql=[
                f"DROP TRIGGER IF EXISTS {name} ON {self.table};",
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {self.table} "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}({arguments});",
            ],
            reverse_sql=f"DROP TRIGGER IF EXISTS {name} ON {self.table};",
        )


# What issue 15 asks to be audited: rules and versions (and the four-eyes requests that change
# them), lists and entries, decision thresholds, snoozes, users and groups (with memberships and
# permissions), partners, API keys, webhooks and monitor settings.
AUDITED = (
    Audited("rules_rule", "rules.rule", ignore=("updated_at",)),
    Audited("rules_ruleversion", "rules.ruleversion"),
    Audited("rules_ruleversion_partners", "rules.ruleversion_partners"),
    Audited("rules_rulechange", "rules.rulechange"),
    Audited("rules_rulelist", "rules.rulelist", ignore=("updated_at",)),
    Audited("rules_listentry", "rules.listentry"),
    Audited("rules_decisionthresholds", "rules.decisionthresholds", ignore=("updated_at",)),
    Audited("alerts_snooze", "alerts.snooze"),
    Audited("alerts_webhookendpoint", "alerts.webhookendpoint", ignore=("updated_at",)),
    Audited("auth_user", "auth.user", redact=("password",), ignore=("last_login",)),
    Audited("auth_group", "auth.group"),
    Audited("auth_user_groups", "auth.user_groups"),
    Audited("auth_group_permissions", "auth.group_permissions"),
    Audited("auth_user_user_permissions", "auth.user_user_permissions"),
    Audited("transactions_partnerbank", "transactions.partnerbank"),
    Audited("transactions_apikey", "transactions.apikey", redact=("encrypted_secret",)),
    Audited(
        "monitoring_monitorsettings",
        "monitoring.monitorsettings",
        pk="partner_id",
        ignore=("updated_at",),
    ),
)
# Audited since a later migration, each installed by its own (0001 installs AUDITED as it was).
EXCHANGE_RATES = Audited(
    "transactions_exchangerate", "transactions.exchangerate", ignore=("updated_at",)
)  # 0002: issue 17, rates staff edit or import
# 0003: issue 18, name screening: which lists exist and who imported them, who approved an
# import's removals, and the four-eyes false positives. Entries are not audited row by row: an
# import writes tens of thousands, and each import's diff is kept, append-only, as EntryChange.
SCREENING = (
    Audited("screening_screeninglist", "screening.screeninglist"),
    Audited("screening_listimport", "screening.listimport"),
    Audited("screening_falsepositive", "screening.falsepositive"),
)
# 0004: issue 16, the network detectors' parameters: each version drafted, each four-eyes
# request and its decision, and each move of the version in force.
NETWORK_PARAMETERS = (
    Audited("network_parameterversion", "network.parameterversion"),
    Audited("network_parameterchange", "network.parameterchange"),
    Audited("network_parametersinforce", "network.parametersinforce"),
)
# 0005: issue 16, back-tests of a parameter version: who asked for which version over which
# partner and period. Only the request is kept: the task's progress, state and result (large,
# and written by no one) are not worth a row each.
NETWORK_BACKTESTS = Audited(
    "network_parameterbacktest",
    "network.parameterbacktest",
    ignore=("state", "total", "processed", "result", "error", "started_at", "finished_at"),
)
AUDITED_LATER = (EXCHANGE_RATES, *SCREENING, *NETWORK_PARAMETERS, NETWORK_BACKTESTS)
AUDITED_MODELS = tuple(sorted(audited.label for audited in (*AUDITED, *AUDITED_LATER)))
