"""A recursive workflow in Python: a release whose security audit is done by a nested team.

The same teams and workflows as examples/recursive-release.yaml and security-audit.yaml; the
nested team is a `Workflow` given as the step's `sub_workflow`.
Run it:  python examples/python/recursive.py
"""

import accord

sam = accord.Agent(name="Sam", role="security auditor", skills=["security", "threat modelling"])
ivy = accord.Agent(name="Ivy", role="security auditor", skills=["security", "dependencies"])
security_audit = accord.Workflow(
    name="Security audit",
    description="Two auditors look for vulnerabilities and agree on the findings.",
    agents=[sam, ivy],
    steps=[
        accord.Step(
            id="threats",
            name="Threat model",
            type="analysis",
            agent=sam,
            instructions=(
                'Model the threats to "the workflow API, its bearer tokens and its webhooks".'
            ),
        ),
        accord.Step(
            id="dependencies",
            name="Dependency audit",
            type="review",
            agent=ivy,
            instructions=(
                'Audit "the Python packages pinned in requirements.lock" for known vulnerabilities.'
            ),
        ),
        accord.Step(
            id="verdict",
            name="Do the findings block the release?",
            type="decision",
            depends_on=["threats", "dependencies"],
            decision_options=["ship", "block"],
            instructions="Agree whether any finding is serious enough to block the release.",
        ),
    ],
    coordination=accord.Coordination(decision_making="consensus"),
)

rel = accord.Agent(
    name="Rel",
    role="release manager",
    backstory="Ships releases on time and keeps a checklist.",
    skills=["planning", "release"],
)
quinn = accord.Agent(
    name="Quinn", role="tester", backstory="Breaks things before users do.", skills=["testing"]
)

workflow = accord.Workflow(
    name="Release preparation",
    description="Prepare a release; the security audit is done by a nested team.",
    workflow_type="recursive",
    agents=[rel, quinn],
    coordinator=rel,
    steps=[
        accord.Step(
            id="scope",
            name="Scope the release",
            type="coordination",
            agent=rel,
            instructions="List what goes into version 1.2.",
        ),
        accord.Step(
            id="audit",
            name="Security audit (nested team)",
            type="review",
            depends_on=["scope"],
            sub_workflow=security_audit,
        ),
        accord.Step(
            id="verify",
            name="Verify the release",
            type="testing",
            depends_on=["scope", "audit"],
            agent=quinn,
        ),
    ],
    constraints=accord.Constraints(max_depth=2),
)

if __name__ == "__main__":
    result = workflow.run()
    print(f"{result.status}; child executions: {result.child_executions}")
    for step in result.steps.values():
        print(f"{step.step_id}: {step.status} by {step.agent}")
