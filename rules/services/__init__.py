"""Writes of the rule engine, one module per concern; import them from here."""

from ..versions import VERSION_CONTENT, version_text
from .backtests import TryResult, backtest_request, backtest_run, rule_try
from .changes import (
    APPROVE_PERMISSION,
    rule_change_approve,
    rule_change_refusal,
    rule_change_reject,
    rule_change_withdraw,
)
from .decisions import decision_rules_add, decisions_store
from .lists import ListImport, list_entries_edit, list_entries_import, list_entry_normalize
from .rules import (
    expression_validate,
    rule_create,
    rule_status_change,
    rule_version_create,
    rule_version_restore,
)
from .thresholds import decision_thresholds_update

__all__ = [
    "APPROVE_PERMISSION",
    "VERSION_CONTENT",
    "ListImport",
    "TryResult",
    "backtest_request",
    "backtest_run",
    "rule_try",
    "decision_thresholds_update",
    "decision_rules_add",
    "decisions_store",
    "expression_validate",
    "list_entries_edit",
    "list_entries_import",
    "list_entry_normalize",
    "rule_change_approve",
    "rule_change_refusal",
    "rule_change_reject",
    "rule_change_withdraw",
    "rule_create",
    "rule_status_change",
    "rule_version_create",
    "rule_version_restore",
    "version_text",
]
