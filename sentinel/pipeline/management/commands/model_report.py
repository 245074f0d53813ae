"""``manage.py model_report [--json] [--train-share 0.6] [--dataset amlsim]``: how much the
learned score adds to the rules on labelled accounts, with a time split.

Without ``--dataset``: the demo's planted typologies, trained on the earlier ``--train-share``
of the stored decisions. With ``--dataset amlsim``: the AMLSim sample replayed through the
real ingest and scoring path (datasets.py, once, as ``detection_report`` does), its account
labels, trained on day steps 1-100 and measured on the accounts active after.

Scores whatever is still waiting first, so every stored transaction has its decision and
feature snapshot.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rules.features import providers
from sentinel.riskmodel.models import DecisionFeatures
from sentinel.riskmodel.reports import ModelReport, model_report
from sentinel.riskmodel.training import TooFewLabels

from ... import datasets
from ...orchestrator import transactions_queued_process

# The split of AMLSim's 149 day steps: train on the first 100, test on the rest.
AMLSIM_TRAIN_STEPS = 100


class Command(BaseCommand):
    help = (
        "Train on the earlier part of the stored decisions and measure, per account, rules "
        "alone against rules plus the model on the later part: PR-AUC and recall at 1% and "
        "5% of normal accounts. Scores pending transactions first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--train-share", type=float, default=0.6)
        parser.add_argument(
            "--dataset",
            choices=("amlsim",),
            help="Replay this external benchmark (../shared/data) and report on it instead.",
        )
        datasets.add_data_argument(parser)

    def handle(
        self, *args, as_json: bool, train_share: float, dataset: str | None, data: Path, **options
    ) -> None:
        if not 0.1 <= train_share <= 0.9:
            raise CommandError("--train-share must be between 0.1 and 0.9.")
        if "model" not in {provider.name for provider in providers()}:
            raise CommandError(
                "The model's feature provider is off, so no decision keeps the inputs a model "
                "trains on: run with SENTINEL_RISK_MODEL=1."
            )
        try:
            if dataset:
                report, scored = self._amlsim(data / "amlsim", as_json=as_json)
            else:
                scored = transactions_queued_process()
                report = model_report(train_share=train_share)
        except TooFewLabels as error:
            raise CommandError(str(error)) from error
        if report is None:
            raise CommandError("No labelled accounts or no decisions: run `seed_demo` first.")
        if as_json:
            self.stdout.write(json.dumps({**report.as_dict(), "scored_now": scored}, indent=2))
            return
        self._table(report, "with a planted pattern there" if not dataset else "laundering")

    def _amlsim(self, directory: Path, *, as_json: bool) -> tuple[ModelReport | None, int]:
        if not directory.is_dir():
            raise CommandError(
                f"{directory} does not exist: pass --data with the shared data sets."
            )
        loaded = datasets.AmlSim.load(directory)
        partner, existed = datasets.dataset_partner(datasets.AMLSIM_PARTNER)
        if existed:
            scored = transactions_queued_process()
        else:
            replayed = datasets.replay(partner, loaded.days())
            scored = replayed.processed
            if not as_json:
                self.stdout.write(
                    f"Replayed into partner {partner.slug}: {replayed.processed:,} scored in "
                    f"{replayed.seconds:,.0f} s."
                )
        if not DecisionFeatures.objects.filter(partner=partner).exists():
            raise CommandError(
                f"Partner {partner.slug} was replayed with the model's provider off, so its "
                "decisions kept no inputs: replay it into a fresh database with "
                "SENTINEL_RISK_MODEL=1."
            )
        report = model_report(
            partner_id=partner.id,
            bad_accounts={(partner.id, account) for account in loaded.laundering},
            split_at=loaded.step_start(partner, AMLSIM_TRAIN_STEPS + 1),
        )
        return report, scored

    def _table(self, report: ModelReport, bad: str) -> None:
        self.stdout.write(
            f"Trained on {report.train_rows:,} decisions before {report.split_at} "
            f"({report.train_bad:,} bad); measured on {report.accounts:,} "
            f"accounts active after it, {report.bad_accounts:,} {bad}."
        )
        self.stdout.write(f"{'':<18}{'PR-AUC':>8}{'recall@1%':>11}{'recall@5%':>11}")
        for name, figures in report.figures.items():
            values = list(figures.values())
            self.stdout.write(
                f"{name:<18}"
                + "".join(_cell(v, w) for v, w in zip(values, (8, 11, 11), strict=True))
            )
        self.stdout.write(
            "Inputs the trees gained most from: "
            + ", ".join(f"{name} {share:.0%}" for name, share in report.top_features)
        )


def _cell(value: float | None, width: int) -> str:
    return f"{'-' if value is None else f'{value:.3f}':>{width}}"
