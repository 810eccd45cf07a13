"""A pipeline in Python: analyse a change, implement it with a required review, document it.

The same team and workflow as examples/code-review.yaml (the tests check that both make the
same stored definition). Run it:  python examples/python/pipeline.py
"""

import accord

maya = accord.Agent(
    name="Maya",
    role="architect",
    backstory="Designs systems and keeps the team's decisions consistent.",
    skills=["architecture", "analysis", "planning"],
)
dev = accord.Agent(
    name="Dev",
    role="developer",
    backstory="Writes small, well-tested Python changes.",
    skills=["python", "testing", "implementation"],
)
rita = accord.Agent(
    name="Rita",
    role="reviewer",
    backstory="Reviews code for correctness, clarity and security.",
    skills=["code review", "security", "testing"],
)

workflow = accord.Workflow(
    name="Code review pipeline",
    description="Analyse a requested change, implement it, get it reviewed and document it.",
    workflow_type="pipeline",
    agents=[maya, dev, rita],
    coordinator=maya,
    steps=[
        accord.Step(
            id="analyse",
            name="Analyse the change",
            type="analysis",
            agent=maya,
            instructions=(
                'Read the request "add rate limiting to the public API" and list the risks.'
            ),
            expected_output="A short design with the affected modules and risks.",
        ),
        accord.Step(
            id="implement",
            name="Implement it",
            type="implementation",
            required_skills=["python"],
            instructions="Implement the design from the analysis step.",
            expected_output="The code change and its tests.",
            review_required=True,
            reviewer_role="reviewer",
            validation_criteria=[
                "Every public endpoint is covered",
                "Tests exercise the limit being hit",
            ],
        ),
        accord.Step(
            id="document",
            name="Document it",
            type="documentation",
            instructions="Write the changelog entry and the operator notes.",
            expected_output="Markdown documentation.",
        ),
    ],
    coordination=accord.Coordination(
        communication_style="technical", decision_making="coordinator", knowledge_sharing=True
    ),
    constraints=accord.Constraints(max_retries=2, max_execution_time=1800),  # seconds
)

if __name__ == "__main__":
    result = workflow.run()
    for step in result.steps.values():
        print(f"{step.step_id}: {step.status} by {step.agent} ({step.attempts} attempt(s))")
    usage = result.usage
    print(f"{result.status}: {usage.total_tokens} tokens, {len(result.interactions)} interactions")
    print(result.deliverable)
