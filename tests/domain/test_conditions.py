"""The condition language: what it accepts, how it evaluates, and what it refuses."""

import pytest

from accord.domain.conditions import ConditionError, parse_condition

CONTEXT = {
    "steps": {
        "triage": {
            "data": {"severity": "high", "count": 3, "tags": ["db", "api"]},
            "confidence": 0.9,
        },
        "tests": {"data": {"passed": False}},
    },
    "decisions": {"choose_path": {"outcome": "rewrite"}},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('decisions.choose_path.outcome == "rewrite"', True),
        ('decisions.choose_path.outcome != "rewrite"', False),
        ('steps.triage.data.severity in ["high", "critical"]', True),
        ('steps.triage.data.severity not in ("high",)', False),
        ('"db" in steps.triage.data.tags', True),
        ("steps.triage.confidence > 0.5 and steps.triage.data.count >= 3", True),
        ("steps.triage.confidence > 0.95 or steps.triage.data.count < 3", False),
        ("not steps.tests.data.passed", True),
        ("steps.tests.data.passed == false", True),
        ("0 < steps.triage.data.count <= 3", True),
        ("1 < steps.triage.data.count < 3", False),
        ('steps["triage"]["data"]["tags"][0] == "db"', True),
        ("steps.triage.data.tags[1] == 'api'", True),
        ("steps.triage.data.tags[-1] == 'api'", True),
        ("steps.triage.data.count > -1", True),
        # A value that is missing is None: it equals nothing and never orders.
        ("steps.missing.data.x == null", True),
        ("steps.missing.data.x > 0", False),
        ("steps.missing.data.x < 0", False),
        ('"a" in steps.missing.data.list', False),
        ("steps.triage.data.tags[9] == null", True),
        # Mismatched types never order.
        ("steps.triage.data.severity > 3", False),
    ],
)
def test_conditions_evaluate_over_results(source, expected):
    assert parse_condition(source).evaluate(CONTEXT) is expected


def test_referenced_steps_are_collected_for_dependency_checks():
    condition = parse_condition(
        'steps.triage.data.count > 1 and decisions.choose_path.outcome == "x"'
    )
    assert condition.referenced_steps == {"triage", "choose_path"}


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "len(steps.triage.data.tags)",
        "steps.triage.data.tags.count('db')",
        "os.system",
        "os",
        "().__class__.__bases__",
        "(1).real",
        "[x for x in steps.triage.data.tags]",
        "lambda: 1",
        "steps.triage.data.count + 1 > 2",
        "steps.triage.data.count is None",
        "steps",
        "steps[steps.triage.data.severity]",
        "f'{steps}'",
        "steps.triage.data.severity if True else 1",
        "steps.a := 1",
        "{'a': 1}",
        "",
        "steps.triage ==",
    ],
)
def test_anything_but_comparisons_over_lookups_is_refused(source):
    with pytest.raises(ConditionError):
        parse_condition(source)


def test_lookups_never_reach_python_attributes():
    """A lookup reads keys of the result data; `__class__` is just a missing key."""
    assert parse_condition("steps.triage.__class__ == null").evaluate(CONTEXT)
    assert parse_condition("steps.triage.data.__len__ == null").evaluate(CONTEXT)


def test_error_messages_say_what_is_allowed():
    with pytest.raises(ConditionError, match="steps.<stepId> or decisions.<stepId>"):
        parse_condition("os.system")
    with pytest.raises(ConditionError, match="Call is not allowed"):
        parse_condition("__import__('os')")
