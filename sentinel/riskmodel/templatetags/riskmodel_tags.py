"""The model's score and explanation on the alert and case pages.

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
