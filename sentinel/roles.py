"""The staff groups of the contract and what each may do: the one place permissions are granted.

The groups themselves are created by migration 0001; their permissions are (re)applied after
every migrate, because Django creates model permissions only after migrations have run.
"""

from __future__ import annotations

INVESTIGATOR = "Investigator"
SENIOR_INVESTIGATOR = "Senior investigator"
COMPLIANCE_OFFICER = "Compliance officer"
ADMINISTRATOR = "Administrator"
GROUPS = (INVESTIGATOR, SENIOR_INVESTIGATOR, COMPLIANCE_OFFICER, ADMINISTRATOR)

# Risk rating and limits are edited on the account's admin page (its own fields are read-only).
_EDIT_PROFILES = ["transactions.change_account", "transactions.change_accountprofile"]
_READ_PARTIES = [
    "transactions.view_transaction",
    "transactions.view_transactionlabel",
    "transactions.view_transactionlabelevent",
    "transactions.view_customer",
    "transactions.view_account",
    "transactions.view_accountprofile",
    "transactions.view_partnerbank",
    "transactions.view_exchangerate",
]
# Seeing why a transaction was flagged is part of every investigation.
_READ_DECISIONS = [
    "rules.view_rule",
    "rules.view_ruleversion",
    "rules.view_decision",
    "rules.view_rulehit",
    "rules.view_rulelist",
    "rules.view_listentry",
]
# Compliance officers own detection: rules, lists, thresholds, back-tests, and approving each
# other's changes (never their own: services and a database constraint refuse that).
_MANAGE_RULES = [
    *_READ_DECISIONS,
    "rules.add_rule",
    "rules.change_rule",
    "rules.view_rulechange",
    "rules.approve_rulechange",
    "rules.view_rulefailure",
    "rules.add_rulelist",
    "rules.change_rulelist",
    "rules.add_listentry",
    "rules.change_listentry",
    "rules.delete_listentry",
    "rules.view_decisionthresholds",
    "rules.change_decisionthresholds",
    "rules.add_backtest",
    "rules.view_backtest",
    "rules.view_typologylabel",
]
# Investigators triage alerts; officers and administrators look.
_READ_ALERTS = [
    "alerts.view_alert",
    "alerts.view_alertevent",
    "alerts.view_alerttransaction",
    "alerts.view_alertmember",
    "alerts.view_snooze",
    "alerts.view_snoozedhit",
]
_WORK_ALERTS = [*_READ_ALERTS, "alerts.change_alert", "alerts.add_snooze", "alerts.change_snooze"]
# Investigators work cases; seniors also assign and approve closures (four eyes, never their
# own: cases.services refuses that); officers and administrators read (cases/permissions.py).
_READ_CASES = [
    "cases.view_case",
    "cases.view_suspiciousactivityreport",
    "cases.view_sarfile",
    "cases.view_caseevent",
    "cases.view_casenote",
    "cases.view_caseattachment",
    "cases.view_team",
]
_WORK_CASES = [*_READ_CASES, "cases.work_case"]
_APPROVE_CASES = [*_WORK_CASES, "cases.assign_case", "cases.approve_case"]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    INVESTIGATOR: [*_READ_PARTIES, *_READ_DECISIONS, *_WORK_ALERTS, *_WORK_CASES],
    SENIOR_INVESTIGATOR: [
        *_READ_PARTIES,
        *_EDIT_PROFILES,
        *_READ_DECISIONS,
        *_WORK_ALERTS,
        *_APPROVE_CASES,
    ],
    COMPLIANCE_OFFICER: [
        *_READ_PARTIES,
        *_EDIT_PROFILES,
        *_MANAGE_RULES,
        *_READ_ALERTS,
        *_READ_CASES,
    ],
    ADMINISTRATOR: [
        *_READ_PARTIES,
        *_READ_DECISIONS,
        *_READ_ALERTS,
        *_READ_CASES,
        "rules.view_rulechange",
        "rules.view_rulefailure",
        "rules.view_backtest",
        "transactions.add_partnerbank",
        "transactions.change_partnerbank",
        "transactions.view_apikey",
        "cases.view_sarreportingentity",
        "cases.add_sarreportingentity",
        "cases.change_sarreportingentity",
        "alerts.view_webhookendpoint",
        "alerts.add_webhookendpoint",
        "alerts.change_webhookendpoint",
        "alerts.view_webhookdelivery",
        "alerts.change_webhookdelivery",
        "transactions.add_apikey",
        "transactions.change_apikey",
        *_EDIT_PROFILES,
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        # Unlock a colleague locked out by failed logins (django-axes, docs/security.md).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    ],
}


# The operational monitor (sentinel.monitoring, docs/monitor.md): every staff role reads the
# dashboard, GET /api/v1/monitor and operational alerts; officers and administrators tune how
# each partner's traffic is judged and accept a lasting shift as the new normal.
_READ_MONITOR = [
    "monitoring.view_minutestat",
    "monitoring.view_operationalalert",
    "monitoring.view_operationalalertevent",
    "monitoring.view_monitorsettings",
    "monitoring.view_slackdelivery",
]
_TUNE_MONITOR = [
    "monitoring.add_monitorsettings",
    "monitoring.change_monitorsettings",
    "monitoring.change_operationalalert",
]
for _role in GROUPS:
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_READ_MONITOR]
for _role in (COMPLIANCE_OFFICER, ADMINISTRATOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_TUNE_MONITOR]

# Snoozes of over 30 days, and profile changes that weaken detection (a lower risk rating, a
# higher limit), take a second person's approval (alerts.services.snoozes,
# transactions.services.profiles).
for _role in (SENIOR_INVESTIGATOR, COMPLIANCE_OFFICER):
    ROLE_PERMISSIONS[_role] = [
        *ROLE_PERMISSIONS[_role],
        "alerts.approve_snooze",
        "transactions.approve_profile_change",
    ]

# The learned risk score (sentinel.riskmodel, docs/models.md): officers ask for a version to
# go live, another officer approves; every staff role sees scores and versions.
_READ_MODELS = [
    "riskmodel.view_modelversion",
    "riskmodel.view_modelchange",
    "riskmodel.view_modeldrift",
]
for _role in GROUPS:
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], *_READ_MODELS]
ROLE_PERMISSIONS[COMPLIANCE_OFFICER] = [
    *ROLE_PERMISSIONS[COMPLIANCE_OFFICER],
    "riskmodel.change_modelversion",
    "riskmodel.approve_modelchange",
]

# The network detectors' parameters (sentinel.network, docs/network.md § Parameters): every
# role sees the versions and requests; officers draft one, ask for it in force, and approve
# another officer's request.
for _role in GROUPS:
    ROLE_PERMISSIONS[_role] = [
        *ROLE_PERMISSIONS[_role],
        "network.view_parameterversion",
        "network.view_parameterchange",
    ]
ROLE_PERMISSIONS[COMPLIANCE_OFFICER] = [
    *ROLE_PERMISSIONS[COMPLIANCE_OFFICER],
    "network.add_parameterversion",
    "network.add_parameterchange",
    "network.approve_parameterchange",
]

# Exchange rates (amount_base, SAR local amounts): entered and corrected by compliance officers
# and administrators, every change in the audit trail (docs/currencies.md).
for _role in (COMPLIANCE_OFFICER, ADMINISTRATOR):
    ROLE_PERMISSIONS[_role] = [
        *ROLE_PERMISSIONS[_role],
        "transactions.add_exchangerate",
        "transactions.change_exchangerate",
        "transactions.delete_exchangerate",
    ]

# The audit trail (sentinel.audit, docs/security.md): compliance officers and administrators.
for _role in (COMPLIANCE_OFFICER, ADMINISTRATOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "audit.view_auditevent"]

# The management reports (sentinel.reports, docs/reports.md): compliance officers and seniors.
for _role in (SENIOR_INVESTIGATOR, COMPLIANCE_OFFICER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "reports.view_reports"]

# Name screening (sentinel.screening, docs/screening.md): every role reads the lists;
# compliance officers import them and approve each other's removals.
for _role in GROUPS:
    ROLE_PERMISSIONS[_role] = [
        *ROLE_PERMISSIONS[_role],
        "screening.view_screeninglist",
        "screening.view_screeningentry",
        "screening.view_listimport",
        "screening.view_screeningmatch",
    ]
ROLE_PERMISSIONS[COMPLIANCE_OFFICER] = [
    *ROLE_PERMISSIONS[COMPLIANCE_OFFICER],
    "screening.add_listimport",
    "screening.approve_listimport",
]
# A "false positive" on a (party, entry) pair: any investigator asks, a senior investigator or
# officer other than the asker approves (sentinel.screening.services).
for _role in (INVESTIGATOR, SENIOR_INVESTIGATOR, COMPLIANCE_OFFICER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "screening.add_falsepositive"]
for _role in (SENIOR_INVESTIGATOR, COMPLIANCE_OFFICER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], "screening.approve_falsepositive"]

# Staff access (sentinel.accounts, docs/security.md). These roles hold approval or
# administrative powers, so their sessions must pass a TOTP second factor.
OTP_REQUIRED_GROUPS = (SENIOR_INVESTIGATOR, COMPLIANCE_OFFICER, ADMINISTRATOR)
# The four-eyes approvals. Only a superuser grants them (as a permission, or through a group
# that carries them): otherwise one administrator could make the second pair of eyes.
APPROVAL_PERMISSIONS = frozenset(
    {
        "rules.approve_rulechange",
        "cases.approve_case",
        "alerts.approve_snooze",
        "transactions.approve_profile_change",
        "riskmodel.approve_modelchange",
        "network.approve_parameterchange",
        "screening.approve_listimport",
        "screening.approve_falsepositive",
    }
)


def sync_group_permissions(sender=None, using: str = "default", **kwargs) -> None:
    """Give each role's group its permissions. Runs after every app's migrations (an app's
    permissions exist once its own have run), so also after every test database flush: one
    query for all the permissions and two per group, not one per permission."""
    from django.contrib.auth.models import Group, Permission

    wanted = {
        tuple(dotted.split(".")) for codenames in ROLE_PERMISSIONS.values() for dotted in codenames
    }
    # A permission of an app not migrated yet in this run is missing: the next app's
    # post_migrate adds it.
    found = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(
            content_type__app_label__in={app_label for app_label, _ in wanted},
            codename__in={codename for _, codename in wanted},
        )
        .values_list("pk", "content_type__app_label", "codename")
    }
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        ids = [found[key] for dotted in codenames if (key := tuple(dotted.split("."))) in found]
        group.permissions.add(*ids)
