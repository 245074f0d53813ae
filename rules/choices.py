"""Enumerations of the rule engine."""

from django.db import models

from sentinel.four_eyes import RequestState


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class RuleOutcome(models.TextChoices):
    """What a live hit asks for; the strongest live outcome wins the decision."""

    ALERT = "alert", "Alert (transaction allowed)"
    REVIEW = "review", "Review"
    BLOCK = "block", "Block"


class DecisionOutcome(models.TextChoices):
    ALLOW = "allow", "Allow"
    REVIEW = "review", "Review"
    BLOCK = "block", "Block"


DECISION_RANK = {DecisionOutcome.ALLOW: 0, DecisionOutcome.REVIEW: 1, DecisionOutcome.BLOCK: 2}


class RuleStatus(models.TextChoices):
    """draft: edited freely, never run. shadow: run, hits stored apart, no effect.
    live: run, hits decide. paused: not run."""

    DRAFT = "draft", "Draft"
    SHADOW = "shadow", "Shadow"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"


RUNNING_STATUSES = (RuleStatus.SHADOW, RuleStatus.LIVE)


ChangeState = RequestState


class ChangeKind(models.TextChoices):
    """What a change request is about: a rule (version and status), a list, or the thresholds."""

    RULE = "rule", "Rule"
    LIST = "list", "List"
    THRESHOLDS = "thresholds", "Decision thresholds"


class ListKind(models.TextChoices):
    COUNTRY = "country", "Countries (ISO 3166 alpha-2)"
    ACCOUNT = "account", "Account ids"
    CUSTOMER = "customer", "Customer ids"
    DEVICE = "device", "Device ids"
    IP = "ip", "IP addresses or networks"
    NAME = "name", "Names (people or companies)"
    BANK = "bank", "Banks (BIC or bank code)"


class BacktestState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Typology(models.TextChoices):
    """Money-laundering and fraud patterns the default pack detects; rules are tagged with them."""

    LARGE_CASH = "large_cash", "Large cash or wire over the reporting threshold"
    STRUCTURING = "structuring", "Structuring just below the threshold"
    VELOCITY = "velocity", "Excessive transfer velocity"
    FAN_IN = "fan_in", "Fan-in from many senders"
    FAN_OUT = "fan_out", "Fan-out to many new beneficiaries"
    PASS_THROUGH = "pass_through", "Rapid pass-through"
    HIGH_RISK_COUNTRY = "high_risk_country", "High-risk jurisdiction counterparty"
    LIST_HIT = "list_hit", "Sanctions or watch-list hit"
    CARD_TESTING = "card_testing", "Card testing"
    DORMANT = "dormant_reactivation", "Dormant account reactivation"
    ROUND_AMOUNTS = "round_amounts", "Large round-amount transfers"
    CYCLE = "cycle", "Funds cycling back to their sender (round-tripping)"
    LAYERING = "layering", "Layering chains across accounts"
    PROXIMITY = "known_bad_proximity", "Dealing with or near accounts known to be bad"
