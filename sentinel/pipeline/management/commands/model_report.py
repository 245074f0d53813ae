"""``manage.py model_report [--json] [--train-share 0.6]``: how much the learned score adds
to the rules on the labelled accounts (the demo's planted typologies), with a time split.

Scores whatever is still waiting first, as ``detection_report`` does, so every stored
transaction has its decision and feature snapshot.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sentinel.riskmodel.reports import model_report
from sentinel.riskmodel.training import TooFewLabels

from ...orchestrator import transactions_queued_process


class Command(BaseCommand):
    help = (
        "Train on the earlier part of the stored decisions and measure, per account, rules "
        "alone against rules plus the model on the later part: PR-AUC and recall at 1% and "
        "5% of normal accounts. Scores pending transactions first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--train-share", type=float, default=0.6)

    def handle(self, *args, as_json: bool, train_share: float, **options) -> None:
        if not 0.1 <= train_share <= 0.9:
            raise CommandError("--train-share must be between 0.1 and 0.9.")
        scored = transactions_queued_process()
        try:
            report = model_report(train_share=train_share)
        except TooFewLabels as error:
            raise CommandError(str(error)) from error
        if report is None:
            raise CommandError("No labelled accounts or no decisions: run `seed_demo` first.")
        if as_json:
            self.stdout.write(json.dumps({**report.as_dict(), "scored_now": scored}, indent=2))
            return
        self.stdout.write(
            f"Trained on {report.train_rows:,} decisions before {report.split_at} "
            f"({report.train_bad:,} bad); measured on {report.accounts:,} "
            f"accounts active after it, {report.bad_accounts:,} with a planted pattern there."
        )
        self.stdout.write(f"{'':<18}{'PR-AUC':>8}{'recall@1%':>11}{'recall@5%':>11}")
        for name, figures in report.figures.items():
            values = list(figures.values())
            self.stdout.write(
                f"{name:<18}"
                + "".join(_cell(v, w) for v, w in zip(values, (8, 11, 11), strict=True))
            )


def _cell(value: float | None, width: int) -> str:
    return f"{'-' if value is None else f'{value:.3f}':>{width}}"
