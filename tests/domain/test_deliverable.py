"""The deliverable (the last completed steps' results as markdown) and the duration estimate."""

from accord.domain.deliverable import build_deliverable, last_completed_steps
from accord.domain.estimates import SECONDS_PER_STEP, estimate_duration

DEPS = {"triage": (), "decide": ("triage",), "fix": ("decide",), "spec": ("decide",)}
ORDER = ["triage", "decide", "fix", "spec"]


def test_the_last_steps_are_the_end_of_the_branch_that_ran() -> None:
    assert last_completed_steps(ORDER, DEPS, {"triage", "decide", "fix"}) == ("fix",)
    assert last_completed_steps(ORDER, DEPS, {"triage", "decide", "fix", "spec"}) == (
        "fix",
        "spec",
    )
    # Both branches skipped: the decision is the last thing the team produced.
    assert last_completed_steps(ORDER, DEPS, {"triage", "decide"}) == ("decide",)


def test_one_step_hands_over_its_output_and_several_get_a_section_each() -> None:
    one = build_deliverable([("doc", "Document it", {"summary": "s", "output": "# Notes\n"})])
    assert one is not None
    assert (one.markdown, one.step_ids) == ("# Notes\n", ["doc"])

    two = build_deliverable(
        [
            ("a", "Track A", {"summary": "only a summary"}),
            ("b", "Track B", {"output": {"rows": 2}}),
        ]
    )
    assert two is not None and two.step_ids == ["a", "b"]
    assert two.markdown.startswith("## Track A\n\nonly a summary\n\n## Track B\n\n```json\n")


def test_nothing_to_hand_over_is_no_deliverable() -> None:
    assert build_deliverable([]) is None
    assert build_deliverable([("a", "A", None), ("b", "B", {"output": "  "})]) is None


def test_the_estimate_prefers_the_workflows_runs_then_its_templates_then_the_step_count() -> None:
    assert estimate_duration([30, 100, 40], [999], 3) == 40  # the median: one slow run counts once
    assert estimate_duration([], [20, 40], 3) == 30
    assert estimate_duration([], [], 3) == 3 * SECONDS_PER_STEP
    assert estimate_duration([0], [], 3) == 1  # never zero: "instant" is no estimate
