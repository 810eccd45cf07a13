"""A parallel workflow in Python: plan, three research tracks at once, merge; with the
events printed as they happen (`workflow.stream`).

The same team and workflow as examples/parallel-research.yaml.
Run it:  python examples/python/parallel.py
"""

import asyncio

import accord

lead = accord.Agent(
    name="Lead",
    role="research lead",
    backstory="Plans research and synthesises findings into recommendations.",
    skills=["planning", "synthesis"],
)
tess = accord.Agent(
    name="Tess",
    role="researcher",
    backstory="Studies technology trends and competitors.",
    skills=["technology", "competitors"],
)
uma = accord.Agent(
    name="Uma",
    role="researcher",
    backstory="Talks to users and studies their needs.",
    skills=["users", "interviews"],
)
finn = accord.Agent(
    name="Finn",
    role="analyst",
    backstory="Models markets and costs.",
    skills=["finance", "market sizing"],
)


def track(step_id: str, name: str, skill: str) -> accord.Step:
    return accord.Step(
        id=step_id,
        name=name,
        type="analysis",
        depends_on=["plan"],
        required_skills=[skill],
        can_run_in_parallel=True,
    )


workflow = accord.Workflow(
    name="Parallel market research",
    description="Research a product idea from three angles at once and merge the findings.",
    workflow_type="parallel",
    agents=[lead, tess, uma, finn],
    coordinator=lead,
    steps=[
        accord.Step(
            id="plan",
            name="Plan the research",
            type="coordination",
            agent=lead,
            instructions=(
                'Split "a self-hosted agent platform for small teams" into research questions.'
            ),
            expected_output="One question per track.",
        ),
        track("technology", "Technology and competitors", "technology"),
        track("users", "User needs", "users"),
        track("market", "Market size and costs", "finance"),
        accord.Step(
            id="merge",
            name="Merge the findings",
            type="documentation",
            agent=lead,
            depends_on=["technology", "users", "market"],
            instructions="Merge the three tracks into one recommendation.",
            expected_output="A one-page recommendation.",
        ),
    ],
    coordination=accord.Coordination(communication_style="formal", decision_making="majority"),
    constraints=accord.Constraints(max_concurrency=3, allow_parallel_execution=True),
)


async def main() -> None:
    async with workflow.stream() as events:
        async for event in events:
            if event.kind.startswith("step."):
                print(f"{event.kind:16} {event.step_id}")
    assert events.result is not None
    print(f"{events.result.status}; deliverable:\n{events.result.deliverable}")


if __name__ == "__main__":
    asyncio.run(main())
