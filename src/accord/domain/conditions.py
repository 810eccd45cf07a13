"""Step conditions: a small, safe expression language, parsed once and evaluated over data.

Conditions are data, never code: they are parsed with Python's `ast` into a whitelisted tree
(comparisons, `and`/`or`/`not`, `in`, literals and dotted lookups into `steps.<id>` and
`decisions.<id>`), and evaluated by walking that tree. Nothing is ever passed to `eval`.

Examples::

    decisions.choose_path.outcome == "rewrite"
    steps.triage.data.severity in ["high", "critical"] and steps.triage.confidence > 0.5
    not steps.tests.data.passed

What a lookup may read is fixed, so a misspelt field is an error at creation time rather
than a lookup that is always missing (and a step that is always skipped):

- `steps.<id>.` one of `STEP_FIELDS`: `status`, `summary`, `output`, `confidence`, and
  `data`, the step's machine-readable result, whose keys (`data.<anything>`) are free-form.
- `decisions.<id>.` one of `DECISION_FIELDS`: `outcome` (one of the decision step's
  options) and `votes`.
"""

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROOTS = ("steps", "decisions")
STEP_FIELDS = ("status", "summary", "output", "data", "confidence")
"""The fields of `steps.<id>` (the scheduler's condition context builds exactly these)."""
DECISION_FIELDS = ("outcome", "votes")
"""The fields of `decisions.<id>`."""
_FIELDS = {"steps": STEP_FIELDS, "decisions": DECISION_FIELDS}
_CONSTANT_NAMES = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}


class ConditionError(ValueError):
    """The condition text is not a valid expression of the condition language.

    `fix`, when set, says how to correct this particular mistake."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class OutcomeTest:
    """A direct comparison of a decision's outcome with a literal, such as
    `decisions.pick.outcome == "bug"` or `decisions.pick.outcome in ["bug", "feature"]`:
    the literal can be checked against the decision step's options before anything runs."""

    step_id: str
    value: str | int | float | bool


@dataclass(frozen=True)
class Condition:
    source: str
    tree: ast.expr
    referenced_steps: frozenset[str]
    referenced_decisions: frozenset[str] = frozenset()
    """The steps read through `decisions.<id>`: each must be a decision step."""
    outcome_tests: tuple[OutcomeTest, ...] = ()

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """`context` is {"steps": {step_id: {...}}, "decisions": {step_id: {...}}}."""
        return bool(_eval(self.tree, context))


def parse_condition(source: str) -> Condition:
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        if not exc.offset or exc.lineno != 1:  # the parser ran out of input
            where = f"the expression ends early, at column {len(text) + 1}"
        else:
            where = f"at column {exc.offset}"
        raise ConditionError(f"not an expression ({exc.msg}: {where})") from None
    found = _Found()
    _check(tree, found)
    return Condition(
        source=source,
        tree=tree,
        referenced_steps=frozenset(found.steps),
        referenced_decisions=frozenset(found.decisions),
        outcome_tests=tuple(found.outcome_tests),
    )


@dataclass
class _Found:
    """What `_check` collects for the checks that need the whole definition."""

    steps: set[str] = field(default_factory=set)
    decisions: set[str] = field(default_factory=set)
    outcome_tests: list[OutcomeTest] = field(default_factory=list)


def _check(node: ast.expr, found: _Found) -> None:
    match node:
        case ast.BoolOp(values=values):
            for v in values:
                _check(v, found)
        case ast.UnaryOp(op=ast.Not() | ast.USub(), operand=operand):
            _check(operand, found)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            allowed = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
            if not all(isinstance(op, allowed) for op in ops):
                raise ConditionError("only ==, !=, <, <=, >, >=, in and not in compare values")
            for v in [left, *comparators]:
                _check(v, found)
            operands = [left, *comparators]
            for op, a, b in zip(ops, operands, operands[1:], strict=False):
                found.outcome_tests.extend(_outcome_tests(op, a, b))
        case ast.Constant(value=value):
            if not isinstance(value, str | int | float | bool | type(None)):
                raise ConditionError(f"unsupported literal {value!r}")
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            for v in elts:
                _check(v, found)
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
            root, step_id = path[0], str(path[1])
            found.steps.add(step_id)
            if root == "decisions":
                found.decisions.add(step_id)
            if len(path) > 2:
                _check_field(root, step_id, path[2])
        case _:
            raise ConditionError(
                f"{type(node).__name__} is not allowed: use comparisons, and/or/not, in, "
                "literals and steps./decisions. lookups"
            )


def _check_field(root: str | int, step_id: str, name: str | int) -> None:
    fields = _FIELDS[str(root)]
    if name in fields:
        return
    fix = f"use one of: {', '.join(fields)}"
    if root == "steps":
        fix += " (anything under data. is free-form, e.g. data.severity)"
    close = difflib.get_close_matches(str(name), fields, n=1)
    if close:
        fix = f"did you mean {close[0]!r}? " + fix
    raise ConditionError(f"{root}.{step_id} has no field {name!r}", fix=fix)


def _outcome_tests(op: ast.cmpop, a: ast.expr, b: ast.expr) -> list[OutcomeTest]:
    """`outcome == lit`, `lit == outcome`, `!=`, and `outcome in [lit, ...]` (and `not in`)."""
    if isinstance(op, ast.Eq | ast.NotEq):
        for lookup, other in ((a, b), (b, a)):
            step_id = _outcome_of(lookup)
            if step_id is not None and isinstance(other, ast.Constant):
                return _literals(step_id, [other])
    elif isinstance(op, ast.In | ast.NotIn):
        step_id = _outcome_of(a)
        if step_id is not None and isinstance(b, ast.List | ast.Tuple):
            return _literals(step_id, b.elts)
    return []


def _outcome_of(node: ast.expr) -> str | None:
    """The step ID when `node` is the lookup `decisions.<id>.outcome`."""
    if not isinstance(node, ast.Attribute | ast.Subscript):
        return None
    path = _lookup_path(node)
    if len(path) == 3 and path[0] == "decisions" and path[2] == "outcome":
        return str(path[1])
    return None


def _literals(step_id: str, nodes: list[ast.expr]) -> list[OutcomeTest]:
    """Literal operands only; `null` is left alone (it tests that no decision was made)."""
    return [
        OutcomeTest(step_id, n.value)
        for n in nodes
        if isinstance(n, ast.Constant) and isinstance(n.value, str | int | float | bool)
    ]


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
