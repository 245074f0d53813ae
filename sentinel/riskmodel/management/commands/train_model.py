"""``manage.py train_model``: train a model version in shadow now (the beat task's service)."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...services import model_train
from ...training import TooFewLabels


class Command(BaseCommand):
    help = (
        "Train a gradient-boosted model on the decisions' feature snapshots and their labels; "
        "the new version goes to shadow and waits for two officers to go live."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--start", type=datetime.fromisoformat, help="ISO time; default: end - 30 days"
        )
        parser.add_argument("--end", type=datetime.fromisoformat, help="ISO time; default: now")
        parser.add_argument(
            "--holdout-start", type=datetime.fromisoformat, help="default: the last fifth"
        )
        parser.add_argument(
            "--alert-rate", type=float, default=0.01, help="share the partner can review"
        )

    def handle(self, *args, start, end, holdout_start, alert_rate, **options) -> None:
        if not 0 < alert_rate < 1:
            raise CommandError("--alert-rate must be between 0 and 1, e.g. 0.01.")
        try:
            version = model_train(
                start=start, end=end, holdout_start=holdout_start, alert_rate=alert_rate
            )
        except (TooFewLabels, ValidationError) as error:
            raise CommandError(str(getattr(error, "message", error))) from error
        self.stdout.write(
            f"Model v{version.number} trained in shadow: {version.train_rows:,} rows "
            f"({version.train_positives:,} bad), hold-out {version.holdout_rows:,} "
            f"({version.holdout_positives:,} bad)."
        )
        self.stdout.write(json.dumps(version.report, indent=2))
