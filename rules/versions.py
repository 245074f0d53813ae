"""A rule version as text, and the diff between two: pure, so that the services and the
migrations that ship a new version of a pack rule (``default_pack.pack_revise``) record the same
diff."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

# The fields of a version a compliance officer edits; everything else is bookkeeping.
VERSION_CONTENT = (
    "name",
    "description",
    "typologies",
    "expression",
    "severity",
    "score",
    "outcome",
    "transaction_types",
    "suppression_seconds",
)


def version_text(version, partners: Sequence | None = None) -> list[str]:
    """A version as lines of "field: value", what the diff compares. ``partners`` for a version
    not saved yet; otherwise its own."""
    if partners is None:
        partners = list(version.partners.all())
    lines = [
        f"{name}: {getattr(version, name)}" for name in VERSION_CONTENT if name != "expression"
    ]
    lines.append("partners: " + (", ".join(sorted(p.slug for p in partners)) or "all"))
    lines.append("expression:")
    lines.extend(f"    {line}" for line in version.expression.splitlines())
    return lines


def version_diff(previous, version, partners: Sequence) -> str:
    """Unified diff from ``previous`` to ``version`` (not saved yet, scoped to ``partners``)."""
    return "\n".join(
        difflib.unified_diff(
            version_text(previous),
            version_text(version, partners),
            f"version {previous.number}",
            f"version {version.number}",
            lineterm="",
        )
    )
