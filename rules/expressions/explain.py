"""Explaining a hit: the values of the comparisons that made an expression true.

The explanation follows the top-level and/or tree: every part of an ``and``, the true parts of
an ``or``. Each comparison is shown with its operands' values, such as
``sum(amount, by account, 7d, cash_deposit) = 38,450.00 > 25,000``.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from .language import COMPARISONS, FIELD_NOTES
from .runtime import EvaluationContext, Lazy, Ref, ref_label, ref_value

MAX_SHOWN_ITEMS = 5
MAX_SHOWN_CHARS = 80


@dataclass(frozen=True)
class Operand:
    """One side of a comparison, as an explanation shows it."""

    label: str
    ref: Ref | None = None  # a plain field, aggregate or list
    code: Lazy | None = None  # a computed operand, such as a / b

    def render(self, context: EvaluationContext) -> str:
        if self.code is not None:
            return f"{self.label} = {format_value(self.code(context))}"
        if self.ref is not None and self.ref[0] != "list":
            return f"{self.label} = {shown_value(self.ref, context)}"
        return self.label


@dataclass(frozen=True)
class Leaf:
    """A comparison, or another true/false part, of the top-level and/or tree."""

    label: str
    code: Lazy
    refs: tuple[Ref, ...]  # fields and aggregates it reads
    operands: tuple[Operand, ...] = ()
    ops: tuple[str, ...] = ()

    def holds(self, context: EvaluationContext) -> bool:
        try:
            return bool(self.code(context))
        except Exception:  # noqa: BLE001  a part that fails did not make the rule fire
            return False

    def outcome(self, context: EvaluationContext) -> tuple[bool | None, Leaf | None]:
        """(value, None), or (None, self) when it fails."""
        try:
            return bool(self.code(context)), None
        except Exception:  # noqa: BLE001
            return None, self

    def explain(self, context: EvaluationContext) -> list[str]:
        text, shown = self.label, set()
        if self.operands:
            pieces = [self.operands[0].render(context)]
            for op, operand in zip(self.ops, self.operands[1:], strict=True):
                pieces += [op, operand.render(context)]
            text, shown = " ".join(pieces), {operand.ref for operand in self.operands}
        # Values inside computed operands or function calls, shown after the comparison.
        inner = [ref for ref in self.refs if ref not in shown]
        if inner:
            values = (f"{ref_label(ref)} = {shown_value(ref, context)}" for ref in inner)
            text += f" ({', '.join(values)})"
        return [text]


@dataclass(frozen=True)
class Branch:
    conjunction: bool  # and; otherwise or
    children: tuple[Leaf | Branch, ...]

    def holds(self, context: EvaluationContext) -> bool:
        test = all if self.conjunction else any
        return test(child.holds(context) for child in self.children)

    def explain(self, context: EvaluationContext) -> list[str]:
        return [
            line
            for child in self.children
            if self.conjunction or child.holds(context)
            for line in child.explain(context)
        ]

    def outcome(self, context: EvaluationContext) -> tuple[bool | None, Leaf | None]:
        """Evaluated as the rule is, stopping where and/or stop: which part failed, if any."""
        for child in self.children:
            value, failed = child.outcome(context)
            if failed is not None or value != self.conjunction:
                return value, failed
        return self.conjunction, None


def build_plan(
    node: ast.expr,
    *,
    refs: dict[int, Ref],
    literals: dict[int, object],
    generated: dict[int, ast.expr],
    namespace: dict[str, object],
    segment: Callable[[ast.AST], str],
) -> Leaf | Branch:
    """The explanation plan of a checked tree; the dicts are keyed by id() of its nodes."""
    return _Planner(refs, literals, generated, namespace, segment).plan(node)


@dataclass
class _Planner:
    refs: dict[int, Ref]
    literals: dict[int, object]
    generated: dict[int, ast.expr]
    namespace: dict[str, object]
    segment: Callable[[ast.AST], str]

    def plan(self, node: ast.expr) -> Leaf | Branch:
        if isinstance(node, ast.BoolOp):
            children = tuple(self.plan(value) for value in node.values)
            return Branch(conjunction=isinstance(node.op, ast.And), children=children)
        operands, ops = (), ()
        if isinstance(node, ast.Compare):
            operands = tuple(self._operand(part) for part in [node.left, *node.comparators])
            ops = tuple(COMPARISONS[type(op)] for op in node.ops)
        return Leaf(
            label=self._label(node),
            code=Lazy(self.generated[id(node)], self.namespace),
            refs=self._refs_in(node),
            operands=operands,
            ops=ops,
        )

    def _operand(self, node: ast.expr) -> Operand:
        if id(node) in self.refs:
            return Operand(label=self._label(node), ref=self.refs[id(node)])
        if id(node) in self.literals:
            return Operand(label=format_literal(self.literals[id(node)]))
        return Operand(label=self._label(node), code=Lazy(self.generated[id(node)], self.namespace))

    def _refs_in(self, node: ast.expr) -> tuple[Ref, ...]:
        """Fields and aggregates in ``node``, in reading order, each once."""
        found = [child for child in ast.walk(node) if id(child) in self.refs]
        found.sort(key=lambda child: (child.lineno, child.col_offset))
        refs = (self.refs[id(child)] for child in found)
        return tuple(dict.fromkeys(ref for ref in refs if ref[0] != "list"))

    def _label(self, node: ast.expr) -> str:
        return ast.unparse(self._label_tree(node))

    def _label_tree(self, node):
        """A copy of ``node`` that unparses with aggregates described and strings in "…"."""
        if isinstance(node, list):
            return [self._label_tree(item) for item in node]
        if not isinstance(node, ast.AST):
            return node
        if id(node) in self.refs:
            return ast.Name(ref_label(self.refs[id(node)]))
        if id(node) in self.literals and not isinstance(node, ast.UnaryOp):
            value = self.literals[id(node)]
            number = isinstance(value, int | Decimal) and not isinstance(value, bool)
            return ast.Name(self.segment(node) if number else format_literal(value))
        fields = {name: self._label_tree(getattr(node, name, None)) for name in node._fields}
        return type(node)(**fields)


def shown_value(ref: Ref, context: EvaluationContext) -> str:
    """A field's or aggregate's value, followed by its provider's note when it has one
    ("1,085.00 EUR (1,000.00 USD at 1.085 EUR per USD (ecb, 2026-11-20))")."""
    text = format_value(ref_value(ref, context))
    note = context.fields.get(FIELD_NOTES.get(ref[1], "")) if ref[0] == "field" else None
    return f"{text} {note}" if note else text


def format_value(value: object) -> str:
    """Numbers with thousands separators (two decimals when they have any), strings quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return f"{value:,f}" if value.as_tuple().exponent >= 0 else f"{value:,.2f}"
    if isinstance(value, str):
        return json.dumps(_shorten(value), ensure_ascii=False)
    if isinstance(value, set | frozenset):
        return _format_items(sorted(value, key=str), format_value)
    if isinstance(value, list | tuple):
        return _format_items(value, format_value)
    return _shorten(repr(value))


def format_literal(value: object) -> str:
    """A literal as written, with thousands separators: 25000 -> 25,000, 0.125 -> 0.125."""
    if isinstance(value, Decimal):
        return f"{value:,f}"
    if isinstance(value, list):
        return _format_items(value, format_literal)
    return format_value(value)


def _format_items(values, render: Callable[[object], str]) -> str:
    shown = [render(value) for value in list(values)[:MAX_SHOWN_ITEMS]]
    if len(values) > MAX_SHOWN_ITEMS:
        shown.append(f"… {len(values) - MAX_SHOWN_ITEMS} more")
    return f"[{', '.join(shown)}]"


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"
