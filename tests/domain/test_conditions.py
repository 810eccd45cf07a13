"""The condition language: what it accepts, how it evaluates, and what it refuses."""

import pytest

from accord.domain.conditions import (
    DECISION_FIELDS,
    STEP_FIELDS,
    ConditionError,
    OutcomeTest,
    parse_condition,
)

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
    """A lookup reads keys of the result data; `__class__` is just a missing key (and not a
    field of a step result at all)."""
    assert parse_condition("steps.triage.data.__class__ == null").evaluate(CONTEXT)
    assert parse_condition("steps.triage.data.__len__ == null").evaluate(CONTEXT)
    with pytest.raises(ConditionError, match="steps.triage has no field '__class__'"):
        parse_condition("steps.triage.__class__ == null")


def test_error_messages_say_what_is_allowed():
    with pytest.raises(ConditionError, match="steps.<stepId> or decisions.<stepId>"):
        parse_condition("os.system")
    with pytest.raises(ConditionError, match="Call is not allowed"):
        parse_condition("__import__('os')")


@pytest.mark.parametrize(
    ("source", "message", "suggestion"),
    [
        ("steps.pick.confidnce > 0.5", "steps.pick has no field 'confidnce'", "'confidence'"),
        ('steps["pick"]["sumary"] == "x"', "steps.pick has no field 'sumary'", "'summary'"),
        ("steps.pick.severity == 'high'", "steps.pick has no field 'severity'", None),
        ('decisions.pick.outcom == "bug"', "decisions.pick has no field 'outcom'", "'outcome'"),
        ("decisions.pick.confidence > 0.5", "decisions.pick has no field 'confidence'", None),
    ],
)
def test_a_misspelt_field_is_refused_with_the_fields_there_are(source, message, suggestion):
    """A field that is not there would always read as missing and silently skip the step."""
    with pytest.raises(ConditionError, match=message) as caught:
        parse_condition(source)
    fix = caught.value.fix
    assert fix is not None
    fields = DECISION_FIELDS if source.startswith("decisions") else STEP_FIELDS
    assert f"use one of: {', '.join(fields)}" in fix
    if suggestion:
        assert fix.startswith(f"did you mean {suggestion}?")
    else:
        assert "did you mean" not in fix


def test_every_field_and_anything_under_data_may_be_read():
    for field in STEP_FIELDS:
        parse_condition(f"steps.a.{field} == null")
    for field in DECISION_FIELDS:
        parse_condition(f"decisions.a.{field} == null")
    parse_condition("steps.a.data.confidnce == null and steps.a.data['any key'][0] == 1")
    parse_condition("steps.a and decisions.a")


def test_outcomes_compared_with_literals_are_collected_for_the_option_check():
    condition = parse_condition(
        'decisions.p.outcome == "a" or "b" != decisions.p.outcome'
        ' or decisions.q.outcome in ["c", 1] or decisions.q.outcome not in ("d",)'
        ' or decisions.p.outcome == null or steps.p.data.outcome == "z"'
        ' or decisions.p.votes == "e" or "f" in decisions.p.outcome'
    )
    assert condition.outcome_tests == (
        OutcomeTest("p", "a"),
        OutcomeTest("p", "b"),
        OutcomeTest("q", "c"),
        OutcomeTest("q", 1),
        OutcomeTest("q", "d"),
    )
    assert condition.referenced_decisions == {"p", "q"}
    assert condition.referenced_steps == {"p", "q"}


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("steps.a.confidence >", "the expression ends early, at column 21"),
        ("  steps.a.x == 1 and ", "the expression ends early, at column 19"),
        ("steps.a.x === 1", "at column 13"),
    ],
)
def test_a_syntax_error_names_its_column(source, column):
    with pytest.raises(ConditionError) as caught:
        parse_condition(source)
    assert str(caught.value).endswith(f"{column})")
