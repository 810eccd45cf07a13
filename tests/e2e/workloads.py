"""Workflows the browser tests, `bench/ui.py` and `bench/screenshots.py` create through the
HTTP API: a team on the offline model, a 300-step pipeline, a 64-wide fan-out (plan, 64
parallel steps, merge), a nested team, and a workflow with right-to-left names. `api` is
Playwright's `APIRequestContext` of a signed-in page (`page.request`)."""

from typing import Any, Protocol


class Api(Protocol):
    def get(self, url: str) -> Any: ...
    def post(self, url: str, *, data: Any = None) -> Any: ...
    def patch(self, url: str, *, data: Any = None) -> Any: ...


def call(api: Api, method: str, path: str, body: Any = None) -> Any:
    response = (
        api.get(f"/api/v1{path}") if method == "GET" else api.post(f"/api/v1{path}", data=body)
    )
    if not response.ok:
        raise AssertionError(f"{method} {path}: {response.status} {response.text()}")
    return response.json() if response.status != 204 else None


def team(api: Api, *, latency: float = 0.0, seed: int = 7, suffix: str = "") -> list[str]:
    """An offline provider and three agents (IDs: developer Ada, reviewer Grace, writer Lin),
    their names ending in `suffix` (agent names are unique: another team needs another)."""
    provider = call(
        api,
        "POST",
        "/providers",
        {
            "name": f"Offline {latency}s{suffix}",
            "kind": "offline",
            "defaultModel": "accord-offline",
            "settings": {"latencySeconds": latency, "seed": seed},
        },
    )
    ids = []
    for name, role, skills in (
        ("Ada", "developer", ["python"]),
        ("Grace", "reviewer", ["review"]),
        ("Lin", "writer", ["docs"]),
    ):
        agent = call(
            api,
            "POST",
            "/agents",
            {
                "name": f"{name}{suffix}",
                "role": role,
                "backstory": "",
                "skills": skills,
                "llmProviderId": provider["id"],
                "model": None,
            },
        )
        ids.append(agent["id"])
    return ids


def step(step_id: str, name: str, depends_on: list[str] | None = None, **extra: Any) -> dict:
    return {
        "id": step_id,
        "name": name,
        "description": "",
        "type": "implementation",
        "requiredSkills": [],
        "dependsOn": depends_on or [],
        "instructions": f"Do {name.lower()}.",
        "expectedOutput": "A short markdown note.",
        "validationCriteria": [],
        "reviewRequired": False,
        **extra,
    }


def workflow(
    name: str,
    agents: list[str],
    steps: list[dict],
    workflow_type: str = "parallel",
    *,
    concurrency: int = 16,
    description: str = "",
) -> dict:
    return {
        "name": name,
        "description": description,
        "workflowType": workflow_type,
        "participatingAgents": agents,
        "coordinatorAgentId": agents[0],
        "configuration": {
            "steps": steps,
            "coordination": {
                "communicationStyle": "technical",
                "decisionMaking": "coordinator",
                "knowledgeSharing": False,
            },
            "constraints": {
                "maxExecutionTime": 60,
                "maxRetries": 1,
                "allowParallelExecution": True,
                "maxConcurrency": concurrency,
            },
        },
    }


def pipeline_steps(count: int) -> list[dict]:
    return [step(f"s{i:03d}", f"Stage {i:03d}") for i in range(1, count + 1)]


def fan_out_steps(width: int) -> list[dict]:
    tracks = [
        step(f"track-{i:02d}", f"Research track {i:02d}", ["plan"]) for i in range(1, width + 1)
    ]
    merge = step("merge", "Merge the findings", [t["id"] for t in tracks])
    return [step("plan", "Plan the research"), *tracks, merge]


def create(api: Api, definition: dict) -> dict:
    return call(api, "POST", "/workflows", definition)  # type: ignore[no-any-return]


def start(api: Api, workflow_id: str, inputs: dict | None = None) -> dict:
    return call(  # type: ignore[no-any-return]
        api, "POST", f"/workflows/{workflow_id}/executions", {"inputs": inputs or {}}
    )


def wait_finished(api: Api, execution_id: str, timeout: float = 120) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = call(api, "GET", f"/executions/{execution_id}")
        if execution["status"] in ("completed", "failed", "cancelled"):
            return execution  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"execution {execution_id} did not finish in {timeout} s")
