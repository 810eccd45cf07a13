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


def test_duplicate_names_are_refused_saying_which_name_exists(accord: Accord):
    accord("agents", "create", "Ada", "--role", "developer")
    again = accord("agents", "create", "ada", "--role", "developer", ok=False)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert "'Ada' already exists" in again.stderr and "pick another name" in again.stderr
    assert "Ada" in accord("agents", "show", "Ada").stdout  # the lookup still finds one

    accord("providers", "create", "slow", "--kind", "offline", "--model", "offline")
    clash = accord(
        "providers", "create", "Slow", "--kind", "offline", "--model", "offline", ok=False
    )
    assert "'slow' already exists" in clash.stderr
    builtin = accord(
        "providers", "create", "offline", "--kind", "offline", "--model", "m", ok=False
    )
    assert builtin.returncode == 1 and "built-in offline model" in builtin.stderr

    review = str(EXAMPLES / "code-review.yaml")
    accord("templates", "create", review, "--category", "review")
    twice = accord("templates", "create", review, "--category", "review", ok=False)
    assert twice.returncode == 1 and "already exists" in twice.stderr


def test_the_cli_applies_the_apis_validation(accord: Accord):
    blank = accord("agents", "create", "", "--role", "developer", ok=False)
    assert blank.returncode == 1 and "Traceback" not in blank.stderr
    assert "name" in blank.stderr and "not blank" in blank.stderr
    no_role = accord("agents", "create", "Ada", "--role", " ", ok=False)
    assert no_role.returncode == 1 and "role" in no_role.stderr
    assert json_of(accord("agents", "list", "--json")) == []

    no_url = accord(
        "providers", "create", "local", "--kind", "openai_compatible", "--model", "m", ok=False
    )
    assert no_url.returncode == 1 and "baseUrl" in no_url.stderr and "--base-url" in no_url.stderr
    not_http = accord(
        "providers",
        "create",
        "local",
        "--kind",
        "openai_compatible",
        "--model",
        "m",
        "--base-url",
        "localhost:11434",
        ok=False,
    )
    assert "not an http:// or https:// URL" in not_http.stderr
    slow = accord(
        "providers",
        "create",
        "o",
        "--kind",
        "offline",
        "--model",
        "m",
        "--setting",
        "latencySeconds=abc",
        ok=False,
    )
    assert slow.returncode == 1 and "settings.latencySeconds" in slow.stderr
    assert "'abc' is not a number" in slow.stderr
    assert json_of(accord("providers", "list", "--json")) == []
