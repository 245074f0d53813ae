"""Template helpers of the case pages: markdown notes, money, SLA labels."""

from __future__ import annotations

from decimal import Decimal

from django import template

from transactions.money import format_amount

from ..choices import SlaState
from ..markdown import render_markdown

register = template.Library()


@register.filter
def markdown(source: str):
    return render_markdown(source)


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """1,500.00 USD: the currency's own decimals, thousands grouped."""
    if amount is None:
        return ""
    try:
        return f"{format_amount(Decimal(amount), currency)} {currency}"
    except (ArithmeticError, ValueError):
        return f"{amount} {currency}"


@register.filter
def filesize(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)


@register.filter
def sla_label(state: str) -> str:
    return SlaState(state).label if state in SlaState.values else ""


@register.filter
def activity(profile) -> list[dict]:
    """An account profile's activity as rows: direction, type, count and money total."""
    rows = []
    for key, value in sorted((getattr(profile, "activity", None) or {}).items()):
        direction, _, rest = key.partition(":")
        kind, _, currency = rest.rpartition(":")
        total = money(Decimal(str(value.get("sum", 0))), currency)
        rows.append(
            {"direction": direction, "type": kind, "count": value.get("count", 0), "total": total}
        )
    return rows
