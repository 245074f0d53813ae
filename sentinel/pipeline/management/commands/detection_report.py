"""``manage.py detection_report [--json] [--dataset amlsim|ibm-patterns]``: how many labelled
accounts the live rules found.

Scores whatever is still waiting first (the profiling queue, then anything a lost task left
behind), so the figures cover every stored transaction even when no Celery worker runs.
With ``--dataset`` it first replays an external benchmark through the real ingest and scoring
path into its own partner (once: a second run reports on what is stored), see datasets.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rules.reports import AccountFigures, DetectionFigures, detection_figures, unscored_count

from ... import datasets
from ...orchestrator import transactions_queued_process

# What the demo population must show (issue 3): planted accounts found, normal ones left alone.
TARGET_DETECTED = 0.90
TARGET_NORMAL_HIT = 0.02


class Command(BaseCommand):
    help = (
        "Per typology, the share of labelled accounts (planted by seed_demo) that got a live "
        "hit from a rule tagged with that typology, and the share of normal accounts with any "
        "live hit. Scores pending transactions first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the figures as JSON."
        )
        parser.add_argument(
            "--dataset",
            choices=("amlsim", "ibm-patterns"),
            help="Replay this external benchmark (../shared/data) and report on it instead.",
        )
        datasets.add_data_argument(parser)

    def handle(self, *args, as_json: bool, dataset: str | None, data: Path, **options) -> None:
        if dataset:
            self._dataset(dataset, data, as_json=as_json)
            return
        scored = _score_pending()
        unscored = unscored_count()
        figures = detection_figures()
        if as_json:
            self.stdout.write(_as_json(figures, scored=scored, unscored=unscored))
            return
        if scored:
            self.stdout.write(f"Scored {scored:,} transactions that were waiting.")
        if unscored:
            self.stdout.write(
                self.style.WARNING(
                    f"{unscored:,} transactions are still unscored (locked by a worker right "
                    "now?): run this again for complete figures."
                )
            )
        if not figures.planted.accounts:
            self.stdout.write("No labelled accounts: run `manage.py seed_demo` first.")
            return
        self._table(figures)
        if settings.SENTINEL_NETWORK_ANALYTICS:
            self._rings(datasets.demo_ring_figures())

    def _rings(self, figures: datasets.RingFigures) -> None:
        self.stdout.write(f"Window scan (network rings, live ring rules): {figures.rings:,} rings.")
        for row in (figures.planted_named, figures.normal_alerted, figures.normal_named):
            self.stdout.write(
                f"  {row.label:<40}{row.found:>6,} of {row.total:,} ({_percent(row.share)})"
            )

    def _dataset(self, name: str, data: Path, *, as_json: bool) -> None:
        if name == "amlsim":
            loaded, partner_name, figures = _load(datasets.AmlSim, data / "amlsim")
        else:
            loaded, partner_name, figures = _load(datasets.IbmPatterns, data / "ibm_aml_patterns")
        partner, existed = datasets.dataset_partner(partner_name)
        if not existed:
            if isinstance(loaded, datasets.IbmPatterns):
                rates = loaded.rates_enter()
                if rates and not as_json:
                    self.stdout.write(f"Entered {rates:,} reference exchange rates (datasets.py).")
            replayed = datasets.replay(partner, loaded.days())
            if not as_json:
                self.stdout.write(
                    f"Replayed into partner {partner.slug}: "
                    + ", ".join(f"{n:,} {status}" for status, n in replayed.statuses.items())
                    + f"; {replayed.processed:,} scored in {replayed.seconds:,.0f} s."
                )
        else:
            _score_pending()
        if settings.SENTINEL_NETWORK_ANALYTICS:
            alerted = datasets.rings_scan(partner.pk, datasets.benchmark_window(partner.pk))
            if not as_json:
                self.stdout.write(f"Window scan, day by day: {alerted:,} new rings alerted.")
        report = figures(loaded, partner)
        if as_json:
            self.stdout.write(json.dumps(asdict(report), indent=2))
            return
        self.stdout.write(f"{'':<34}{'total':>9}{'found':>9}{'share':>9}")
        for row in report.rows:
            self.stdout.write(
                f"{row.label:<34}{row.total:>9,}{row.found:>9,}{_percent(row.share):>9}"
            )
        self.stdout.write(f"\nPer rule: {report.positives} hit, {report.negatives} hit")
        for code, (positives, negatives) in report.by_rule.items():
            self.stdout.write(f"  {code:<32}{positives:>9,}{negatives:>9,}")

    def _table(self, figures: DetectionFigures) -> None:
        self.stdout.write(f"{'Typology':<22}{'Planted':>9}{'Detected':>10}{'Share':>9}")
        for row in figures.typologies:
            self.stdout.write(
                f"{row.typology:<22}{row.planted:>9}{row.detected:>10}{_percent(row.share):>9}"
            )
        planted, normal = figures.planted, figures.normal
        self.stdout.write(
            f"{'any typology, any rule':<22}{planted.accounts:>9}{planted.hit:>10}"
            f"{_percent(planted.share):>9}"
        )
        self.stdout.write(
            f"Normal accounts: {normal.accounts:,}, with any live hit: {normal.hit:,} "
            f"({_percent(normal.share)})."
        )
        met = _target_met(figures)
        style = self.style.SUCCESS if met else self.style.WARNING
        self.stdout.write(
            style(
                f"Target ({TARGET_DETECTED:.0%} of each typology detected, at most "
                f"{TARGET_NORMAL_HIT:.0%} of normal accounts hit): {'met' if met else 'not met'}."
            )
        )


def _load(kind, directory: Path):
    if not directory.is_dir():
        raise CommandError(f"{directory} does not exist: pass --data with the shared data sets.")
    if kind is datasets.AmlSim:
        return kind.load(directory), datasets.AMLSIM_PARTNER, datasets.amlsim_figures
    return kind.load(directory), datasets.IBM_PARTNER, datasets.ibm_figures


def _score_pending() -> int:
    """Run the pipeline on what is queued, then on what the queue lost; how many."""
    return transactions_queued_process()


def _target_met(figures: DetectionFigures) -> bool:
    planted = [row for row in figures.typologies if row.planted]
    return (
        bool(planted)
        and all(row.share >= TARGET_DETECTED for row in planted)
        and (figures.normal.share or 0) <= TARGET_NORMAL_HIT
    )


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _as_json(figures: DetectionFigures, *, scored: int, unscored: int) -> str:
    def group(figures: AccountFigures) -> dict:
        return {"accounts": figures.accounts, "hit": figures.hit, "share": figures.share}

    return json.dumps(
        {
            "typologies": [
                {
                    "typology": row.typology,
                    "label": row.label,
                    "planted": row.planted,
                    "detected": row.detected,
                    "share": row.share,
                }
                for row in figures.typologies
            ],
            "planted": group(figures.planted),
            "normal": group(figures.normal),
            "target_met": _target_met(figures),
            "scored_now": scored,
            "unscored": unscored,
        },
        indent=2,
    )
