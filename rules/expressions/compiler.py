"""From source text to a ``CompiledExpression``, refusing anything outside the language.

The source is parsed with Python's ``ast`` and then translated node by node into a new tree.
Only the node kinds this module knows can be translated; every other kind is refused, so the
generated code can only read the context, compare, compute on numbers and call a few helpers.
Field names become ``F["name"]``, aggregate calls ``A[spec]`` and list membership
``L.contains(name, value)``; nothing the officer writes reaches a Python name or attribute.
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
import warnings
from decimal import Decimal, InvalidOperation

from rules.aggregates import (
    AMOUNT_FUNCTIONS,
    BASE_AMOUNT,
    DISTINCT_FIELDS,
    KEY_KINDS,
    AggregateSpec,
    parse_window,
)

from .explain import build_plan
from .language import (
    AGGREGATE_FUNCTIONS,
    ARITHMETIC,
    BOOL,
    COMPARISONS,
    ENUM_FIELDS,
    FIELDS,
    FILTERS,
    FUNCTION_NAMES,
    LIST,
    LIST_NAME,
    LITERAL_NAMES,
    MAX_DECIMAL_PLACES,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LIST_ITEMS,
    MAX_NODES,
    MAX_NUMBER,
    MAX_ROUND_DIGITS,
    MAX_SOURCE_CHARS,
    MAX_STRING_CHARS,
    NAMESPACES,
    NULL,
    NUMBER,
    NUMBERS,
    PARTIES,
    REFUSED_NODES,
    REFUSED_OPERATORS,
    SIMPLE_FUNCTIONS,
    STRING,
    TYPE_NAMES,
)
from .runtime import CompiledExpression, Ref, build_function


class ExpressionError(ValueError):
    """An expression the language refuses; ``line`` and ``column`` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"


def _divide(a, b):
    # Counts are ints, and int / int would be a float, which Decimal arithmetic refuses.
    if type(a) is int and type(b) is int:
        a = Decimal(a)
    return a / b


_HELPERS = {
    "_divide": _divide,
    "_abs": abs,
    "_round": round,
    "_lower": str.lower,
    "_upper": str.upper,
    "_startswith": str.startswith,
    "_len": len,
}
_OPENING, _CLOSING = "([{", ")]}"


def _first_field_of(namespace: str) -> str:
    return next(name for name in FIELDS if name.startswith(f"{namespace}."))


def compile_expression(source: str) -> CompiledExpression:
    """Check ``source`` and compile it; ``ExpressionError`` says what is wrong and where."""
    text = _Source(source)
    tree = text.parse()
    translator = _Translator(text)
    body, type_ = translator.visit(tree.body)
    if type_ != BOOL:
        raise text.error(
            tree.body, f"the expression must be true or false, not {TYPE_NAMES[type_]}"
        )
    return CompiledExpression(
        source=source,
        aggregates=tuple(translator.specs),
        lists=frozenset(translator.lists),
        exempting_lists=frozenset(translator.exempting_lists),
        fields=frozenset(translator.fields),
        function=build_function(body, translator.namespace),
        plan=build_plan(
            tree.body,
            refs=translator.refs,
            literals=translator.literals,
            generated=translator.generated,
            namespace=translator.namespace,
            segment=text.segment,
        ),
    )


class _Source:
    """The source text, parsed inside parentheses so it may span lines, with positions."""

    def __init__(self, source: str):
        if not isinstance(source, str):
            raise ExpressionError("the expression must be text")
        if len(source) > MAX_SOURCE_CHARS:
            raise ExpressionError(
                f"the expression is {len(source):,} characters long; the limit is "
                f"{MAX_SOURCE_CHARS:,}"
            )
        self.text = re.sub(r"\r\n?", "\n", source)
        self.lines = self.text.split("\n")
        # One line for the opening parenthesis: lines shift by one, columns do not.
        self.wrapped = f"(\n{self.text}\n)"

    def parse(self) -> ast.Expression:
        self._check_tokens()
        try:
            with warnings.catch_warnings():  # "\d" in a string is a warning, not an error
                warnings.simplefilter("ignore")
                tree = ast.parse(self.wrapped, mode="eval")
        except SyntaxError as error:
            line, column = self._position(error.lineno, error.offset)
            raise ExpressionError(f"syntax error: {error.msg}", line, column) from None
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError("the expression is too complex to read") from None
        self._check_names_and_size(tree)
        return tree

    def _check_tokens(self) -> None:
        """Refuse an empty text and a closing bracket that would close our own parenthesis."""
        depth = 0
        try:
            for token in tokenize.generate_tokens(io.StringIO(f"(\n{self.text}").readline):
                if token.type == tokenize.OP and token.string in _OPENING:
                    depth += 1
                elif token.type == tokenize.OP and token.string in _CLOSING:
                    depth -= 1
                    if depth == 0:
                        line, column = self._position(token.start[0], token.start[1] + 1)
                        raise ExpressionError(
                            f"syntax error: unmatched {token.string!r}", line, column
                        )
        except (tokenize.TokenError, SyntaxError):
            pass  # unterminated brackets and strings: the parser reports them with a position
        if all(not line.strip() or line.lstrip().startswith("#") for line in self.lines):
            raise ExpressionError("the expression is empty")

    def _check_names_and_size(self, tree: ast.Expression) -> None:
        for node in ast.walk(tree):
            name = getattr(node, "id", None) or getattr(node, "attr", None)
            if isinstance(node, ast.keyword):
                name = node.arg
            if isinstance(name, str) and "__" in name:
                raise self.error(node, f"'{name}': names with double underscores are not allowed")
        count, stack = 0, [(tree.body, 1)]
        while stack:
            node, depth = stack.pop()
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(
                    f"the expression has more than {MAX_NODES} parts; split it into several rules"
                )
            if depth > MAX_DEPTH:
                raise self.error(
                    node, f"the expression is nested more than {MAX_DEPTH} levels deep"
                )
            if isinstance(node, ast.List | ast.Tuple):
                continue  # a literal list counts as one part; its items are checked one by one
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr | ast.keyword):
                    stack.append((child, depth + 1))

    def error(self, node: ast.AST, message: str) -> ExpressionError:
        line_text = self.wrapped.split("\n")[node.lineno - 1] if node.lineno >= 1 else ""
        column = len(line_text.encode()[: node.col_offset].decode(errors="ignore")) + 1
        return ExpressionError(message, *self._position(node.lineno, column))

    def _position(self, lineno: int | None, column: int | None) -> tuple[int, int]:
        """Position in the officer's text from one in the wrapped text (column 1-based)."""
        line = (lineno or 1) - 1
        if line < 1:
            return 1, 1
        if line > len(self.lines):
            return len(self.lines), len(self.lines[-1]) + 1
        return line, max(1, min(column or 1, len(self.lines[line - 1]) + 1))

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.wrapped, node) or ""

    def quoted(self, node: ast.AST) -> str:
        text = " ".join(self.segment(node).split())
        text = text if len(text) <= 40 else text[:39] + "…"
        return text if text.startswith(("'", '"')) else f"'{text}'"


class _Translator:
    """Type-checks the officer's tree and builds the tree that runs."""

    def __init__(self, text: _Source):
        self.text = text
        self.namespace: dict[str, object] = {"__builtins__": {}, **_HELPERS}
        self.specs: dict[AggregateSpec, str] = {}
        self.lists: set[str] = set()
        self.exempting_lists: set[str] = set()
        # Where a list membership sits: under how many ``not``, inside a comparison of truths.
        self._negations = 0
        self._compared = 0
        self.fields: set[str] = set()
        # By id() of the officer's nodes, which live as long as the translator.
        self.refs: dict[int, Ref] = {}
        self.literals: dict[int, object] = {}
        self.generated: dict[int, ast.expr] = {}
        self._constants: dict[tuple[type, object], str] = {}

    def error(self, node: ast.AST, message: str) -> ExpressionError:
        return self.text.error(node, message)

    def visit(self, node: ast.expr) -> tuple[ast.expr, str]:
        handler = getattr(self, f"_visit_{type(node).__name__}", None)
        if handler is None:
            message = REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
            raise self.error(node, message)
        generated, type_ = handler(node)
        self.generated[id(node)] = generated
        return ast.copy_location(generated, node), type_

    def constant(self, value: object) -> ast.Name:
        """Decimals and sets cannot be code constants: bind them as names of the namespace."""
        key = (type(value), value)
        name = self._constants.get(key)
        if name is None:
            name = self._constants[key] = f"_c{len(self._constants)}"
            self.namespace[name] = value
        return ast.Name(name, ast.Load())

    def expect(self, node: ast.expr, type_: str, wanted: tuple[str, ...], what: str) -> None:
        if type_ not in wanted:
            raise self.error(node, f"{what}; {self.text.quoted(node)} is {TYPE_NAMES[type_]}")

    # --- Literals and names ------------------------------------------------------------------

    def _visit_Constant(self, node: ast.Constant) -> tuple[ast.expr, str]:
        value = node.value
        if isinstance(value, bool) or value is None:
            self.literals[id(node)] = value
            return ast.Constant(value), BOOL if value is not None else NULL
        if isinstance(value, str):
            return ast.Constant(self._string(node)), STRING
        number = self._number(node)
        return (ast.Constant(number) if isinstance(number, int) else self.constant(number)), NUMBER

    def _number(self, node: ast.expr) -> int | Decimal:
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, float):
            try:  # exactly as written: 0.1 is Decimal("0.1"), not the float nearest to it
                value = Decimal(self.text.segment(node).replace("_", ""))
            except InvalidOperation:
                value = Decimal(repr(value))
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.error(node, f"{self.text.quoted(node)} is not a number, string or list")
        if abs(value) > MAX_NUMBER:
            raise self.error(node, f"number too large; the limit is {MAX_NUMBER:,}")
        if isinstance(value, Decimal):
            self._check_decimal_shape(node, value)
        self.literals[id(node)] = value
        return value

    def _check_decimal_shape(self, node: ast.expr, value: Decimal) -> None:
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or exponent > MAX_EXPONENT:
            raise self.error(
                node,
                f"{self.text.quoted(node)} has an exponent out of range; write the number out "
                f"(at most {MAX_NUMBER:,})",
            )
        if exponent < -MAX_DECIMAL_PLACES:
            raise self.error(
                node,
                f"{self.text.quoted(node)} has more than {MAX_DECIMAL_PLACES} decimal places; "
                f"the limit is {MAX_DECIMAL_PLACES}",
            )

    def _string(self, node: ast.Constant) -> str:
        if len(node.value) > MAX_STRING_CHARS:
            raise self.error(node, f"string longer than {MAX_STRING_CHARS} characters")
        self.literals[id(node)] = node.value
        return node.value

    def _visit_Name(self, node: ast.Name) -> tuple[ast.expr, str]:
        name = node.id
        if name in ("true", "false"):
            self.literals[id(node)] = name == "true"
            return ast.Constant(name == "true"), BOOL
        if name == "null":
            self.literals[id(node)] = None
            return ast.Constant(None), NULL
        if name in FIELDS:
            return self._field(node, name)
        if name in NAMESPACES:
            example = f"{name}.country" if name in PARTIES else _first_field_of(name)
            raise self.error(node, f"'{name}' has fields; name one, such as {example}")
        if name in FUNCTION_NAMES:
            raise self.error(node, f"'{name}' is a function; call it with ( )")
        raise self.error(
            node, f"unknown field '{name}'{_did_you_mean(name, (*FIELDS, *LITERAL_NAMES))}"
        )

    def _visit_Attribute(self, node: ast.Attribute) -> tuple[ast.expr, str]:
        owner = node.value
        if not isinstance(owner, ast.Name) or owner.id not in NAMESPACES:
            owners = [*PARTIES, *sorted(NAMESPACES - set(PARTIES))]
            raise self.error(
                node,
                f"only {', '.join(owners)} have fields (e.g. counterparty.country)",
            )
        name = f"{owner.id}.{node.attr}"
        if name not in FIELDS:
            raise self.error(node, f"unknown field '{name}'{_did_you_mean(name, FIELDS)}")
        return self._field(node, name)

    def _field(self, node: ast.expr, name: str) -> tuple[ast.expr, str]:
        self.fields.add(name)
        self.refs[id(node)] = ("field", name)
        lookup = ast.Subscript(ast.Name("F", ast.Load()), ast.Constant(name), ast.Load())
        return lookup, FIELDS[name]

    def _literal_list(self, node: ast.List | ast.Tuple) -> tuple[ast.expr, str]:
        if not node.elts:
            raise self.error(node, "an empty list: nothing is ever in it")
        if len(node.elts) > MAX_LIST_ITEMS:
            raise self.error(node, f"a list may hold at most {MAX_LIST_ITEMS:,} items")
        values = [self._literal_item(item) for item in node.elts]
        if len({isinstance(value, str) for value in values}) > 1:
            raise self.error(node, "a list must hold only strings or only numbers")
        self.literals[id(node)] = values
        return self.constant(frozenset(values)), LIST if isinstance(values[0], str) else NUMBERS

    def _literal_item(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self._string(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            number = self._number(node.operand)
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, ast.Constant):
            return self._number(node)
        raise self.error(node, "a list may only hold strings or numbers written out")

    # --- Operators ---------------------------------------------------------------------------

    def _visit_UnaryOp(self, node: ast.UnaryOp) -> tuple[ast.expr, str]:
        if type(node.op) in REFUSED_OPERATORS:
            raise self.error(node, REFUSED_OPERATORS[type(node.op)])
        self._negations += isinstance(node.op, ast.Not)
        try:
            operand, type_ = self.visit(node.operand)
        finally:
            self._negations -= isinstance(node.op, ast.Not)
        if isinstance(node.op, ast.Not):
            self.expect(node.operand, type_, (BOOL,), "'not' needs true or false")
            return ast.UnaryOp(ast.Not(), operand), BOOL
        self.expect(node.operand, type_, (NUMBER,), "a sign needs a number")
        if id(node.operand) in self.literals:
            value = self.literals[id(node.operand)]
            self.literals[id(node)] = -value if isinstance(node.op, ast.USub) else value
        return ast.UnaryOp(type(node.op)(), operand), NUMBER

    def _visit_BinOp(self, node: ast.BinOp) -> tuple[ast.expr, str]:
        if type(node.op) in REFUSED_OPERATORS:
            raise self.error(node, REFUSED_OPERATORS[type(node.op)])
        symbol = ARITHMETIC[type(node.op)]
        left, left_type = self.visit(node.left)
        right, right_type = self.visit(node.right)
        for side, type_ in ((node.left, left_type), (node.right, right_type)):
            self.expect(side, type_, (NUMBER,), f"'{symbol}' needs numbers on both sides")
        if symbol in "/%" and self.literals.get(id(node.right), 1) == 0:
            raise self.error(node.right, "division by zero")
        if symbol == "/":
            return ast.Call(ast.Name("_divide", ast.Load()), [left, right], []), NUMBER
        return ast.BinOp(left, type(node.op)(), right), NUMBER

    def _visit_BoolOp(self, node: ast.BoolOp) -> tuple[ast.expr, str]:
        word = "and" if isinstance(node.op, ast.And) else "or"
        values = []
        for value in node.values:
            generated, type_ = self.visit(value)
            self.expect(value, type_, (BOOL,), f"'{word}' joins conditions that are true or false")
            values.append(generated)
        return ast.BoolOp(type(node.op)(), values), BOOL

    def _visit_Compare(self, node: ast.Compare) -> tuple[ast.expr, str]:
        for op in node.ops:
            if type(op) in REFUSED_OPERATORS:
                raise self.error(node, REFUSED_OPERATORS[type(op)])
        if isinstance(node.ops[0], ast.In | ast.NotIn) and _is_list_call(node.comparators[0]):
            if len(node.ops) == 1:
                return self._list_membership(node)
        parts = [node.left, *node.comparators]
        self._compared += 1
        try:
            operands = [self.visit(node.left)]
            for op, part in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn) and isinstance(part, ast.List | ast.Tuple):
                    operands.append(self._literal_list(part))
                else:
                    operands.append(self.visit(part))
        finally:
            self._compared -= 1
        for index, op in enumerate(node.ops):
            left, right = parts[index], parts[index + 1]
            self._check_comparison(left, operands[index][1], op, right, operands[index + 1][1])
            self._check_enum_values(left, op, right)
        ops = [type(op)() for op in node.ops]
        generated = [generated for generated, _ in operands]
        return ast.Compare(generated[0], ops, generated[1:]), BOOL

    def _check_comparison(self, left, left_type: str, op, right, right_type: str) -> None:
        symbol = COMPARISONS[type(op)]
        pair = f"{self.text.quoted(left)} is {TYPE_NAMES[left_type]}, {self.text.quoted(right)}"
        pair += f" is {TYPE_NAMES[right_type]}"
        if isinstance(op, ast.In | ast.NotIn):
            wanted = {STRING: STRING, LIST: STRING, NUMBERS: NUMBER}.get(right_type)
            if wanted is None:
                raise self.error(right, f"'{symbol}' needs a list or a string on its right; {pair}")
            if left_type != wanted:
                raise self.error(left, f"'{symbol}' needs {TYPE_NAMES[wanted]} on its left; {pair}")
            return
        if isinstance(op, ast.Eq | ast.NotEq):
            if NULL in (left_type, right_type) and left_type != right_type:
                return
            if left_type == right_type and left_type in (NUMBER, STRING, BOOL):
                return
            raise self.error(left, f"'{symbol}' compares two values of the same kind; {pair}")
        if left_type != right_type or left_type not in (NUMBER, STRING):
            raise self.error(left, f"'{symbol}' compares two numbers or two strings; {pair}")

    def _check_enum_values(self, left: ast.expr, op, right: ast.expr) -> None:
        """type == "cash_depost" would never match: say so now."""
        if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            return
        for field_node, value_node in ((left, right), (right, left)):
            ref = self.refs.get(id(field_node))
            allowed = ENUM_FIELDS.get(ref[1]) if ref and ref[0] == "field" else None
            items = (
                value_node.elts if isinstance(value_node, ast.List | ast.Tuple) else [value_node]
            )
            for item in items if allowed else ():
                value = self.literals.get(id(item))
                if isinstance(value, str) and value and value not in allowed:
                    hint = _did_you_mean(value, allowed) or f"; it is one of {', '.join(allowed)}"
                    raise self.error(item, f"{ref[1]} is never '{value}'{hint}")

    # --- Calls -------------------------------------------------------------------------------

    def _visit_Call(self, node: ast.Call) -> tuple[ast.expr, str]:
        if not isinstance(node.func, ast.Name):
            names = ", ".join(f"{name}()" for name in SIMPLE_FUNCTIONS)
            raise self.error(node, f"only the functions of the language can be called: {names}, …")
        name = node.func.id
        if name in AGGREGATE_FUNCTIONS:
            return self._aggregate(node, name)
        if name == "list":
            raise self.error(
                node, "list(\"name\") can only follow 'in' or 'not in' (one comparison, no chain)"
            )
        if name not in SIMPLE_FUNCTIONS:
            available = ", ".join(FUNCTION_NAMES)
            hint = _did_you_mean(name, FUNCTION_NAMES)
            raise self.error(node, f"unknown function '{name}'{hint}; available: {available}")
        if node.keywords:
            raise self.error(node.keywords[0], f"{name}() takes no named arguments")
        parameters, result = SIMPLE_FUNCTIONS[name]
        args = node.args
        optional = 1 if name == "round" else 0
        if not len(parameters) <= len(args) <= len(parameters) + optional:
            count = f"{len(parameters)}" + (f" or {len(parameters) + 1}" if optional else "")
            raise self.error(node, f"{name}() takes {count} argument(s), not {len(args)}")
        generated = []
        for arg, wanted in zip(args, parameters, strict=False):
            value, type_ = self.visit(arg)
            wanted_text = " or ".join(TYPE_NAMES[type_] for type_ in wanted)
            self.expect(arg, type_, wanted, f"{name}() needs {wanted_text}")
            generated.append(value)
        if len(args) > len(parameters):
            generated.append(self._round_digits(args[-1]))
        return ast.Call(ast.Name(f"_{name}", ast.Load()), generated, []), result

    def _round_digits(self, node: ast.expr) -> ast.expr:
        value = node.value if isinstance(node, ast.Constant) else None
        if type(value) is not int or not 0 <= value <= MAX_ROUND_DIGITS:
            raise self.error(
                node, f"round() takes a number of decimals from 0 to {MAX_ROUND_DIGITS}"
            )
        self.literals[id(node)] = value
        return ast.Constant(value)

    def _list_membership(self, node: ast.Compare) -> tuple[ast.expr, str]:
        call = node.comparators[0]
        argument = call.args[0] if len(call.args) == 1 and not call.keywords else None
        name = argument.value if isinstance(argument, ast.Constant) else None
        if not (isinstance(name, str) and LIST_NAME.fullmatch(name)):
            raise self.error(
                call, 'write list("name") with the name in quotes: a-z, 0-9 and _, up to 64'
            )
        value, type_ = self.visit(node.left)
        self.expect(node.left, type_, (STRING,), "list membership needs a string on its left")
        self.lists.add(name)
        negated = isinstance(node.ops[0], ast.NotIn) != bool(self._negations % 2)
        if negated or self._compared:
            self.exempting_lists.add(name)
        self.refs[id(call)] = ("list", name)
        contains = ast.Attribute(ast.Name("L", ast.Load()), "contains", ast.Load())
        generated = ast.Call(contains, [ast.Constant(name), value], [])
        if isinstance(node.ops[0], ast.NotIn):
            generated = ast.UnaryOp(ast.Not(), generated)
        return generated, BOOL

    def _aggregate(self, node: ast.Call, name: str) -> tuple[ast.expr, str]:
        counted = self._aggregate_argument(node, name)
        allowed = ["by", *(() if name == "days_since_previous" else ("within",)), *FILTERS]
        keywords: dict[str, ast.keyword] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.error(keyword, "'**' is not allowed")
            if keyword.arg == "within" and name == "days_since_previous":
                raise self.error(keyword, "days_since_previous() has no window; remove within=")
            if keyword.arg not in allowed:
                hint = _did_you_mean(keyword.arg, allowed)
                raise self.error(
                    keyword,
                    f"unknown argument '{keyword.arg}' for {name}(){hint}; "
                    f"allowed: {', '.join(allowed)}",
                )
            if keyword.arg in keywords:
                raise self.error(keyword, f"argument '{keyword.arg}' is given twice")
            keywords[keyword.arg] = keyword
        for required in allowed[: 2 if "within" in allowed else 1]:
            if required not in keywords:
                example = {"by": '"account"', "within": '"7d"'}[required]
                raise self.error(node, f"{name}() needs {required}=, such as {required}={example}")
        within = None
        if "within" in keywords:
            window = self._string_argument(keywords["within"], 'a window such as "7d"')
            try:
                within = parse_window(window)
            except ValueError as error:
                raise self.error(keywords["within"].value, str(error)) from None
        filters = {
            attribute: frozenset(self._filter_values(keywords[keyword], allowed_values))
            for keyword, (attribute, allowed_values) in FILTERS.items()
            if keyword in keywords
        }
        spec = AggregateSpec(
            function=name,
            by=self._choice(keywords["by"], KEY_KINDS),
            within_seconds=within,
            field=counted,
            **filters,
        )
        variable = self.specs.setdefault(spec, f"_a{len(self.specs)}")
        self.namespace[variable] = spec
        self.refs[id(node)] = ("aggregate", spec)
        return ast.Subscript(
            ast.Name("A", ast.Load()), ast.Name(variable, ast.Load()), ast.Load()
        ), NUMBER

    def _aggregate_argument(self, node: ast.Call, name: str) -> str | None:
        """sum(amount, …) adds amounts in the scored transaction's currency, sum(amount_base,
        …) every currency's in the partner's reporting currency; distinct("device", …) counts
        devices; others take no argument."""
        args = node.args
        if name in AMOUNT_FUNCTIONS:
            measured = args[0].id if len(args) == 1 and isinstance(args[0], ast.Name) else None
            if measured not in ("amount", BASE_AMOUNT):
                raise self.error(
                    node,
                    f'write {name}(amount, by="account", within="7d"), or {name}(amount_base, '
                    "…) to add every currency in the reporting currency",
                )
            return None if measured == "amount" else BASE_AMOUNT
        if name == "distinct":
            value = args[0].value if len(args) == 1 and isinstance(args[0], ast.Constant) else None
            if value not in DISTINCT_FIELDS:
                choices = ", ".join(f'"{field}"' for field in DISTINCT_FIELDS)
                hint = _did_you_mean(value, DISTINCT_FIELDS) if isinstance(value, str) else ""
                raise self.error(
                    args[0] if args else node, f"distinct() counts one of {choices}{hint}"
                )
            return value
        if args:
            raise self.error(args[0], f'{name}() takes only named arguments, such as by="account"')
        return None

    def _string_argument(self, keyword: ast.keyword, what: str) -> str:
        value = keyword.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            raise self.error(value, f"{keyword.arg}= takes {what}, written in quotes")
        return value.value

    def _choice(self, keyword: ast.keyword, allowed: tuple[str, ...]) -> str:
        value = self._string_argument(keyword, f"one of {', '.join(allowed)}")
        if value not in allowed:
            hint = _did_you_mean(value, allowed)
            raise self.error(
                keyword.value,
                f"unknown {keyword.arg} '{value}'{hint}; allowed: {', '.join(allowed)}",
            )
        return value

    def _filter_values(self, keyword: ast.keyword, allowed: tuple[str, ...]) -> list[str]:
        value = keyword.value
        if not isinstance(value, ast.List | ast.Tuple):
            return [self._choice(keyword, allowed)]
        if not value.elts:
            raise self.error(value, f"{keyword.arg}= needs at least one value")
        return [self._choice(ast.keyword(keyword.arg, item), allowed) for item in value.elts]


def _is_list_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list"


def _did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
