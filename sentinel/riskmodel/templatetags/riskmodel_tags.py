"""The model's score and explanation on the alert and case pages, and the drift labels of
the model pages.

A template tag library is the seam: the pages of alerts and cases load it by name, so neither
app imports this one (pyproject's contracts). One query per page, whatever its length.
"""

from __future__ import annotations

from django import template

from ..explain import reasons
from ..selectors import explanations_of

register = template.Library()


@register.simple_tag
def model_explanations(items, path: str = "pk") -> dict:
    """The model's explanations of these rows' transactions, keyed by transaction id; ``path``
    is where each row (an object or a dict) keeps the id ("transaction_id", "transaction.pk")."""
    ids = []
    for item in items:
        for part in path.split("."):
            item = item[part] if isinstance(item, dict) else getattr(item, part)
        ids.append(item)
    return explanations_of(ids)


@register.inclusion_tag("riskmodel/_explanation.html")
def model_explanation(explained: dict, transaction_id) -> dict:
    row = explained.get(transaction_id)
    if row is None:
        return {"row": None}
    return {
        "row": row,
        "version": row["model_version__number"],
        "score": row["score"],
        "anomaly": row["anomaly"],
        "reasons": reasons(row["contributions"]),
    }


# docs/models.md § Drift: the rule of thumb for a population stability index.
PSI_MOVING, PSI_SHIFTED = 0.1, 0.25


@register.filter
def psi_level(value: float | None) -> str:
    """stable, moving or shifted (the model page's drift history); "" without a figure."""
    if value is None:
        return ""
    if value > PSI_SHIFTED:
        return "shifted"
    return "moving" if value > PSI_MOVING else "stable"
