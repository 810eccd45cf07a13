"""Step conditions: a small, safe expression language, parsed once and evaluated over data.

Conditions are data, never code: they are parsed with Python's `ast` into a whitelisted tree
(comparisons, `and`/`or`/`not`, `in`, literals and dotted lookups into `steps.<id>` and
`decisions.<id>`), and evaluated by walking that tree. Nothing is ever passed to `eval`.

Examples::

    decisions.choose_path.outcome == "rewrite"
    steps.triage.data.severity in ["high", "critical"] and steps.triage.confidence > 0.5
    not steps.tests.data.passed
"""

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROOTS = ("steps", "decisions")
_CONSTANT_NAMES = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}


class ConditionError(ValueError):
    """The condition text is not a valid expression of the condition language."""


@dataclass(frozen=True)
class Condition:
    source: str
    tree: ast.expr
    referenced_steps: frozenset[str]

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """`context` is {"steps": {step_id: {...}}, "decisions": {step_id: {...}}}."""
        return bool(_eval(self.tree, context))


def parse_condition(source: str) -> Condition:
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ConditionError(f"not an expression ({exc.msg} at column {exc.offset})") from None
    refs: set[str] = set()
    _check(tree, refs)
    return Condition(source=source, tree=tree, referenced_steps=frozenset(refs))


def _check(node: ast.expr, refs: set[str]) -> None:
    match node:
        case ast.BoolOp(values=values):
            for v in values:
                _check(v, refs)
        case ast.UnaryOp(op=ast.Not() | ast.USub(), operand=operand):
            _check(operand, refs)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            allowed = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
            if not all(isinstance(op, allowed) for op in ops):
                raise ConditionError("only ==, !=, <, <=, >, >=, in and not in compare values")
            for v in [left, *comparators]:
                _check(v, refs)
        case ast.Constant(value=value):
            if not isinstance(value, str | int | float | bool | type(None)):
                raise ConditionError(f"unsupported literal {value!r}")
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            for v in elts:
                _check(v, refs)
        case ast.Name(id=name):
            if name not in _CONSTANT_NAMES:
                raise ConditionError(
                    f"unknown name {name!r}: start a lookup with steps.<stepId> or "
                    "decisions.<stepId>"
                )
        case ast.Attribute() | ast.Subscript():
            path = _lookup_path(node)
            if len(path) < 2 or path[0] not in ROOTS:
                raise ConditionError(
                    "a lookup must start with steps.<stepId> or decisions.<stepId>"
                )
            refs.add(str(path[1]))
        case _:
            raise ConditionError(
                f"{type(node).__name__} is not allowed: use comparisons, and/or/not, in, "
                "literals and steps./decisions. lookups"
            )


def _lookup_path(node: ast.expr) -> list[str | int]:
    """`steps.a.data["x"]` -> ["steps", "a", "data", "x"]."""
    path: list[str | int] = []
    while True:
        match node:
            case ast.Attribute(value=value, attr=attr):
                path.append(attr)
                node = value
            case ast.Subscript(value=value, slice=ast.Constant(value=key)) if isinstance(
                key, str | int
            ):
                path.append(key)
                node = value
            case ast.Subscript(
                value=value, slice=ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=key))
            ) if isinstance(key, int):
                path.append(-key)
                node = value
            case ast.Name(id=name):
                path.append(name)
                return path[::-1]
            case _:
                raise ConditionError("lookups take names and literal keys only")


def _eval(node: ast.expr, ctx: Mapping[str, Any]) -> Any:
    match node:
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, ctx) for v in values)
        case ast.BoolOp(op=ast.Or(), values=values):
            return any(_eval(v, ctx) for v in values)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not _eval(operand, ctx)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            value = _eval(operand, ctx)
            return -value if isinstance(value, int | float) else None
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _eval(left, ctx)
            for op, comparator in zip(ops, comparators, strict=True):
                right = _eval(comparator, ctx)
                if not _compare(op, current, right):
                    return False
                current = right
            return True
        case ast.Constant(value=value):
            return value
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(v, ctx) for v in elts]
        case ast.Name(id=name):
            return _CONSTANT_NAMES[name]
        case ast.Attribute() | ast.Subscript():
            found: Any = ctx
            for key in _lookup_path(node):
                if isinstance(found, Mapping):
                    found = found.get(key)
                elif (
                    isinstance(found, list)
                    and isinstance(key, int)
                    and -len(found) <= key < len(found)
                ):
                    found = found[key]
                else:
                    return None
            return found
    raise ConditionError(f"cannot evaluate {type(node).__name__}")


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    """Missing values (None) compare unequal and never order; mismatched types never order."""
    try:
        match op:
            case ast.Eq():
                return bool(left == right)
            case ast.NotEq():
                return bool(left != right)
            case ast.In():
                return right is not None and left in right
            case ast.NotIn():
                return right is None or left not in right
            case ast.Lt():
                return bool(left < right)
            case ast.LtE():
                return bool(left <= right)
            case ast.Gt():
                return bool(left > right)
            case ast.GtE():
                return bool(left >= right)
    except TypeError:
        return False
    return False
