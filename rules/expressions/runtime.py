"""Running a compiled expression, and saying why it failed when it does.

Evaluation is one call of a Python function built from the checked tree: no tree walking per
transaction. Explanations and failure diagnostics are only needed after a hit or an error, so
the functions they use are compiled on first use.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import InvalidOperation
from typing import TYPE_CHECKING, Protocol

from rules.aggregates import AggregateSpec

from .language import FIELD_NOTES

if TYPE_CHECKING:
    from .explain import Branch, Leaf

# What an expression reads: ("field", "amount"), ("aggregate", spec) or ("list", "name").
Ref = tuple[str, object]


class ListLookup(Protocol):
    def contains(self, name: str, value: object) -> bool: ...


class _NoLists:
    def contains(self, name: str, value: object) -> bool:
        raise LookupError(f"list {name!r} is not loaded")


@dataclass
class EvaluationContext:
    """What one transaction offers its rules: field values, aggregate values and the lists.

    Numbers are ``Decimal`` (counts may be ``int``); any value may be ``None`` when the
    transaction lacks it.
    """

    fields: dict[str, object]
    aggregates: Mapping[AggregateSpec, object] = field(default_factory=dict)
    lists: ListLookup = field(default_factory=_NoLists)


class RuleRuntimeError(Exception):
    """A rule failed on one transaction; the message says why, in the officer's terms."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


Function = Callable[[Mapping, Mapping, ListLookup], object]


def build_function(body: ast.expr, namespace: dict[str, object]) -> Function:
    """``lambda F, A, L: <body>`` where F are the fields, A the aggregates, L the lists.

    ``body`` is built by the compiler from checked nodes only, and ``namespace`` has empty
    builtins, so the code can do nothing but read the context and compute.
    """
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg("F"), ast.arg("A"), ast.arg("L")],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[],
    )
    tree = ast.fix_missing_locations(ast.Expression(ast.Lambda(arguments, body)))
    return eval(compile(tree, "<rule>", "eval"), namespace)  # noqa: S307  checked tree, no builtins


class Lazy:
    """A generated tree, compiled when first needed."""

    __slots__ = ("_tree", "_namespace", "_function")

    def __init__(self, tree: ast.expr, namespace: dict[str, object]):
        self._tree, self._namespace, self._function = tree, namespace, None

    def __call__(self, context: EvaluationContext) -> object:
        if self._function is None:
            self._function = build_function(self._tree, self._namespace)
        return self._function(context.fields, context.aggregates, context.lists)


class CompiledExpression:
    """A checked rule expression, ready to run on any number of transactions.

    Speed, one core (Python 3.11.7, 2-vCPU AMD EPYC busy with other work, so figures vary):
    the 15 rules of rules/default_pack.py evaluate at 27,000-64,000 transactions/s (1-2 µs per
    rule, the name normalisation of sanctions-list lookups included); the 12 examples of
    docs/rules.md at 66,000-125,000/s. Scoring needs 10,000/s.
    """

    __slots__ = (
        "source",
        "aggregates",
        "lists",
        "exempting_lists",
        "fields",
        "_function",
        "_plan",
    )

    def __init__(
        self,
        *,
        source: str,
        aggregates: tuple[AggregateSpec, ...],
        lists: frozenset[str],
        fields: frozenset[str],
        function: Function,
        plan: Leaf | Branch,
        exempting_lists: frozenset[str] = frozenset(),
    ):
        self.source = source
        self.aggregates = aggregates
        self.lists = lists
        # Lists whose entries can make the expression false (``not in list(...)``, under a
        # ``not``, or compared with ==/!=): adding to them may make the rule hit less.
        self.exempting_lists = exempting_lists
        self.fields = fields
        self._function = function
        self._plan = plan

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(self, context: EvaluationContext) -> bool:
        try:
            return bool(self._function(context.fields, context.aggregates, context.lists))
        except Exception as error:
            raise self._runtime_error(context, error) from error

    def explain(self, context: EvaluationContext) -> str:
        """The values that made the expression true, e.g. 'amount = 1,200.00 >= 1,000'."""
        return "; ".join(self._plan.explain(context)) or self.source

    def _runtime_error(self, context: EvaluationContext, error: Exception) -> RuleRuntimeError:
        _, leaf = self._plan.outcome(context)
        problem = _describe_failure(error, leaf, context)
        return RuleRuntimeError(f"{problem} (in {leaf.label})" if leaf else problem)


def _describe_failure(error: Exception, leaf: Leaf | None, context: EvaluationContext) -> str:
    if isinstance(error, TypeError | LookupError | AttributeError) and leaf is not None:
        for ref in leaf.refs:
            kind, key = ref
            values = context.fields if kind == "field" else context.aggregates
            name = f"field {key!r}" if kind == "field" else ref_label(ref)
            if key not in values:
                return f"{name} is not available"
            if values[key] is None:
                note = context.fields.get(FIELD_NOTES.get(key, "")) if kind == "field" else None
                return f"{name} has no value: {note}" if note else f"{name} has no value"
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, InvalidOperation):  # 0 / 0 and x % 0 among others
        divides = leaf is not None and ("/" in leaf.label or "%" in leaf.label)
        return "division by zero" if divides else "invalid calculation"
    if isinstance(error, LookupError) and error.args and isinstance(error.args[0], str):
        return error.args[0]
    return f"{type(error).__name__}: {error}"


def ref_label(ref: Ref) -> str:
    kind, key = ref
    if kind == "aggregate":
        return key.describe()
    return f'list("{key}")' if kind == "list" else str(key)


def ref_value(ref: Ref, context: EvaluationContext) -> object:
    kind, key = ref
    return (context.fields if kind == "field" else context.aggregates).get(key)
