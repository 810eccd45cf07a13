"""A conditional workflow in Python: triage a report, decide what it is, take one branch.

The same team and workflow as examples/conditional-triage.yaml; the branch not taken is
recorded as skipped. Run it:  python examples/python/conditional.py
"""

import accord

tom = accord.Agent(
    name="Tom",
    role="triager",
    backstory="Reads every incoming report first and routes it.",
    skills=["triage", "analysis"],
)
bea = accord.Agent(
    name="Bea",
    role="developer",
    backstory="Fixes bugs quickly and adds regression tests.",
    skills=["debugging", "python"],
)
pia = accord.Agent(
    name="Pia",
    role="product manager",
    backstory="Turns requests into specifications.",
    skills=["specification", "planning"],
)

workflow = accord.Workflow(
    name="Issue triage",
    description=(
        "Triage an incoming report, decide whether it is a bug or a feature request, and act."
    ),
    workflow_type="conditional",
    agents=[tom, bea, pia],
    coordinator=tom,
    steps=[
        accord.Step(
            id="triage",
            name="Triage the report",
            type="analysis",
            agent=tom,
            instructions=(
                "Triage the report given as input `report`; without one, triage this report: "
                '"Exporting a workflow with 200 steps times out after 30 seconds."'
            ),
            expected_output="Severity, component and a one-line summary.",
        ),
        accord.Step(
            id="classify",
            name="Bug or feature?",
            type="decision",
            depends_on=["triage"],
            decision_options=["bug", "feature"],
            instructions="Decide whether the report describes a bug or a feature request.",
        ),
        accord.Step(
            id="fix",
            name="Fix the bug",
            type="implementation",
            depends_on=["classify"],
            condition='decisions.classify.outcome == "bug"',
            required_skills=["debugging"],
        ),
        accord.Step(
            id="specify",
            name="Specify the feature",
            type="documentation",
            depends_on=["classify"],
            condition='decisions.classify.outcome == "feature"',
            required_skills=["specification"],
        ),
    ],
    coordination=accord.Coordination(decision_making="majority"),
)

if __name__ == "__main__":
    result = workflow.run(inputs={"report": "Exporting 200 steps times out after 30 seconds."})
    decision = result.steps["classify"].result
    print(f"decided: {decision.data.get('outcome') if decision else None}")
    for step in result.steps.values():
        print(f"{step.step_id}: {step.status}" + (f" ({step.error})" if step.error else ""))
