"""``manage.py screening_report``: precision and recall of name matching on the shipped
labelled pairs, per category, at the shipped threshold (or ``--threshold``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ...default_rules import MATCH_SCORE
from ...evaluation import report


class Command(BaseCommand):
    help = "Precision and recall of name screening on the shipped evaluation set."

    def add_arguments(self, parser):
        parser.add_argument("--threshold", type=float, default=MATCH_SCORE, help="0 to 100")
        parser.add_argument("--mistakes", action="store_true", help="list the pairs missed")

    def handle(self, *args, threshold: float, mistakes: bool = False, **options):
        cut = threshold / 100
        results = report.evaluate(cut)
        self.stdout.write(f"Threshold {threshold:g}")
        self.stdout.write(
            f"{'category':<22}{'pairs':>6}{'match':>7}{'TP':>5}{'FP':>5}{'FN':>5}"
            f"{'precision':>11}{'recall':>8}"
        )
        for category, counts in sorted(results.items(), key=lambda item: item[0] == "all"):
            wanted = counts.true_positive + counts.false_negative
            self.stdout.write(
                f"{category:<22}{counts.pairs:>6}{wanted:>7}{counts.true_positive:>5}"
                f"{counts.false_positive:>5}{counts.false_negative:>5}"
                f"{_ratio(counts.precision):>11}{_ratio(counts.recall):>8}"
            )
        if mistakes:
            for category, query, entry, label, score in report.mistakes(cut):
                wanted = "should match" if label else "should not match"
                self.stdout.write(
                    f"  {category}: {query!r} / {entry!r} {wanted}: {score * 100:.1f}"
                )


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
