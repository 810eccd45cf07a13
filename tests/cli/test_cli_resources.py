"""list, show and create for agents, providers and workflows, as a user types them."""

from tests.cli.conftest import EXAMPLES, Accord, json_of


def test_agents_created_listed_and_shown_by_name_or_id(accord: Accord):
    created = json_of(
        accord(
            "agents",
            "create",
            "Ada",
            "--role",
            "developer",
            "--skill",
            "python",
            "--skill",
            "sql",
            "--json",
        )
    )
    assert created["name"] == "Ada" and created["skills"] == ["python", "sql"]
    accord("agents", "create", "Rex", "--role", "reviewer")

    listed = json_of(accord("agents", "list", "--json"))
    assert [a["name"] for a in listed] == ["Ada", "Rex"]
    table = accord("agents", "list").stdout
    assert "Ada" in table and "developer" in table and "python, sql" in table

    by_name = accord("agents", "show", "Ada").stdout
    assert created["id"] in by_name and "python, sql" in by_name
    assert json_of(accord("agents", "show", created["id"][:6], "--json"))["name"] == "Ada"

    missing = accord("agents", "show", "Nobody", ok=False)
    assert missing.returncode == 1
    assert "agent 'Nobody' not found" in missing.stderr and "Traceback" not in missing.stderr


def test_a_provider_keeps_its_key_secret_and_agents_can_use_it(accord: Accord, data_dir):
    import os
    import subprocess

    from tests.cli.conftest import ACCORD, accord_env

    env = accord_env(data_dir) | {"MY_KEY": "sk-very-secret"}
    done = subprocess.run(
        [
            ACCORD,
            "providers",
            "create",
            "work",
            "--kind",
            "openai",
            "--model",
            "gpt-4o-mini",
            "--api-key-env",
            "MY_KEY",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.getcwd(),
    )
    assert done.returncode == 0, done.stderr
    provider = json_of(done)
    assert provider["hasApiKey"] is True and "sk-very-secret" not in done.stdout

    for args in (
        ("providers", "list"),
        ("providers", "show", "work"),
        ("providers", "list", "--json"),
    ):
        out = accord(*args).stdout
        assert "work" in out and "sk-very-secret" not in out

    agent = json_of(
        accord("agents", "create", "Gia", "--role", "writer", "--provider", "work", "--json")
    )
    assert agent["llmProviderId"] == provider["id"]
    assert "work" in accord("agents", "show", "Gia").stdout


def test_a_workflow_file_creates_its_agents_and_workflow_once(accord: Accord):
    file = str(EXAMPLES / "code-review.yaml")
    first = json_of(accord("workflows", "create", file, "--json"))
    again = json_of(accord("workflows", "create", file, "--json"))
    assert first["id"] == again["id"], "creating the same file twice updates it in place"
    assert first["workflowType"] == "pipeline"
    assert [s["id"] for s in first["configuration"]["steps"]] == [
        "analyse",
        "implement",
        "document",
    ]

    agents = {a["name"]: a["id"] for a in json_of(accord("agents", "list", "--json"))}
    assert sorted(agents) == ["Dev", "Maya", "Rita"]
    assert first["participatingAgents"] == [agents["Maya"], agents["Dev"], agents["Rita"]]
    assert first["coordinatorAgentId"] == agents["Maya"]
    assert first["configuration"]["steps"][0]["preferredAgentId"] == agents["Maya"]

    listed = accord("workflows", "list").stdout
    assert "Code review pipeline" in listed and "pipeline" in listed
    shown = accord("workflows", "show", "Code review").stdout
    assert "Implement it" in shown and "Maya" in shown and "coordinator Maya" in shown


def test_a_recursive_file_installs_its_sub_workflow_first(accord: Accord):
    parent = json_of(
        accord("workflows", "create", str(EXAMPLES / "recursive-release.yaml"), "--json")
    )
    workflows = {w["name"]: w for w in json_of(accord("workflows", "list", "--json"))}
    assert set(workflows) == {"Release preparation", "Security audit"}
    audit = next(s for s in parent["configuration"]["steps"] if s["id"] == "audit")
    assert audit["subWorkflowId"] == workflows["Security audit"]["id"]


def test_a_workflow_file_saved_as_a_template_names_roles_not_agents(accord: Accord):
    created = json_of(
        accord(
            "templates",
            "create",
            str(EXAMPLES / "parallel-research.yaml"),
            "--category",
            "research",
            "--json",
        )
    )
    assert created["requiredAgentRoles"] == ["research lead", "researcher", "analyst"]
    steps = {s["id"]: s for s in created["templateDefinition"]["steps"]}
    assert steps["plan"]["assignedAgentRole"] == "research lead"
    assert steps["plan"]["preferredAgentId"] is None

    listed = json_of(accord("templates", "list", "--category", "research", "--json"))
    assert created["id"] in [t["id"] for t in listed]
    shown = accord("templates", "show", "Parallel market").stdout
    assert "research lead" in shown and "Merge the findings" in shown
