"""Precision and recall of the matcher on the shipped labelled pairs, per category.

Each pair goes through the real path: an index holding only the listed name, then ``screen``
(retrieval, name score, attributes). A pair is flagged when its best score reaches the
threshold, so a pair retrieval misses counts as a miss.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..matching.index import ListedName, Party, ScreeningIndex

HERE = Path(__file__).parent
FILES = (HERE / "pairs.csv", HERE / "hard_cases.csv")


@dataclass
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    @property
    def pairs(self) -> int:
        return self.true_positive + self.false_positive + self.false_negative + self.true_negative

    @property
    def precision(self) -> float | None:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else None


def pairs_read(files=FILES) -> list[dict[str, str]]:
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def pair_score(row: dict[str, str]) -> float:
    listed = ListedName(
        entry_id=1,
        list_name="evaluation",
        list_kind="sanctions",
        entry_type=row["entry_type"] or "person",
        name=row["entry"],
        strength="strong",
    )
    matches = ScreeningIndex([listed]).screen(Party(row["query"], entry_type=row["query_type"]))
    return matches[0].score if matches else 0.0


def evaluate(threshold: float, rows: list[dict[str, str]] | None = None) -> dict[str, Counts]:
    """Counts per category and overall ("all") at ``threshold`` (0..1)."""
    results: dict[str, Counts] = {"all": Counts()}
    for row in rows if rows is not None else pairs_read():
        flagged = pair_score(row) >= threshold
        wanted = row["match"] == "1"
        for counts in (results.setdefault(row["category"], Counts()), results["all"]):
            if flagged and wanted:
                counts.true_positive += 1
            elif flagged:
                counts.false_positive += 1
            elif wanted:
                counts.false_negative += 1
            else:
                counts.true_negative += 1
    return results


def mistakes(threshold: float) -> list[tuple[str, str, str, int, float]]:
    """The pairs the matcher gets wrong: (category, query, entry, label, score)."""
    wrong = []
    for row in pairs_read():
        score = pair_score(row)
        if (score >= threshold) != (row["match"] == "1"):
            wrong.append((row["category"], row["query"], row["entry"], int(row["match"]), score))
    return wrong
