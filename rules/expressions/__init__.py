"""The safe rule-expression language compliance officers write rules in (docs/rules.md).

    sum(amount, by="account", within="7d", type="cash_deposit") > 25000 and amount >= 1000

An expression is Python syntax limited to a whitelist: fields, literals, and/or/not,
comparisons, arithmetic and a few functions. ``compile_expression`` checks it and compiles it
once to Python code run without builtins; ``CompiledExpression.evaluate`` then costs about a
microsecond per rule (figures on ``CompiledExpression``). Aggregates (``count(by=…, within=…)``
…) are not computed here: each call becomes an ``AggregateSpec`` whose value the caller puts
in the ``EvaluationContext``.
"""

from .compiler import ExpressionError, compile_expression
from .language import FIELD_DOCS, FIELDS, FUNCTION_NAMES, PARTIES
from .runtime import CompiledExpression, EvaluationContext, ListLookup, RuleRuntimeError

__all__ = [
    "FIELDS",
    "FIELD_DOCS",
    "FUNCTION_NAMES",
    "PARTIES",
    "CompiledExpression",
    "EvaluationContext",
    "ExpressionError",
    "ListLookup",
    "RuleRuntimeError",
    "compile_expression",
]
