"""Enumerations of network analytics."""

from django.db import models

from sentinel.four_eyes import RequestState


class PatternKind(models.TextChoices):
    """The shapes the scheduled window scan looks for (docs/network.md § The window scan)."""

    FAN_IN = "fan_in", "Fan-in: many new payers into one account"
    FAN_OUT = "fan_out", "Fan-out: one account paying many new payees"
    GATHER_SCATTER = "gather_scatter", "Gather-scatter: many → one → many"
    SCATTER_GATHER = "scatter_gather", "Scatter-gather: one → many → one"
    BIPARTITE = "bipartite", "Bipartite: a set of senders paying a set of receivers"
    STACK = "stack", "Stacked layers: senders → receivers that pay on → receivers"


class ParameterAction(models.TextChoices):
    """What approving a request for a parameter version does."""

    PUT_IN_FORCE = "in_force", "Put a new version in force"
    ROLLBACK = "rollback", "Roll back to an earlier version"


ParameterChangeState = RequestState  # pending, approved, rejected, withdrawn


class SeedReason(models.TextChoices):
    """Why an account counts as known bad for proximity (docs/network.md § Proximity), in the
    order one reason outranks another when an account has several."""

    SAR = "sar", "In a filed suspicious-activity report"
    FEEDBACK = "feedback", "Confirmed fraud by the partner"
    LIST = "list", "On a watch list"


class BacktestState(models.TextChoices):
    """Where a parameter version's back-test is (docs/network.md § Back-testing a version)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
