"""Tools in a workflow file: MCP servers, `${VAR}` checks and each agent's allow-list."""

import pytest

from accord.domain.tools import AllowList, McpServer, MissingVariable, ToolRef, expand, redact
from accord.domain.workflow_file import WorkflowFileError, parse_workflow_file

FILE = """\
name: Audit
mcpServers:
  files:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-filesystem", "${WORKSPACE}", "${AUDIT_DIR}"]
  search:
    url: "${SEARCH_URL:-http://127.0.0.1:9/mcp}"
    headers: {Authorization: "Bearer ${SEARCH_TOKEN:-none}"}
    requireApproval: [delete]
agents:
  - name: Ada
    role: auditor
    tools: [files.read_text_file, "search.*", workspace]
  - name: Rex
    role: writer
    tools: [{tool}]
steps:
  - id: audit
    name: Audit the folder
"""


def problems_of(text: str, environment: dict[str, str]) -> list[tuple[int | None, str, str, str]]:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_file(text, source="wf.yaml", environment=environment)
    return [(p.line, p.field, p.message, p.fix) for p in info.value.problems]


def test_servers_and_allow_lists_become_the_stored_configuration_unexpanded():
    workflow = parse_workflow_file(
        FILE.replace("{tool}", "files"), environment={"AUDIT_DIR": "/srv"}
    )
    request = workflow.create_request(agent_ids={"Ada": "a", "Rex": "r"})
    servers = request.configuration.mcp_servers
    assert servers["files"].transport == "stdio"
    assert servers["files"].args[-2:] == ["${WORKSPACE}", "${AUDIT_DIR}"]  # never stored expanded
    assert servers["search"].transport == "http"
    assert servers["search"].needs_approval("delete") and not servers["search"].needs_approval("q")
    assert workflow.agents[0].tools == ["files.read_text_file", "search.*", "workspace"]


def test_a_missing_variable_is_named_with_its_line():
    [(line, field, message, fix)] = problems_of(FILE.replace("{tool}", "files"), environment={})
    assert (line, field) == (4, "mcpServers.files")
    assert "${AUDIT_DIR}" in message and "not set" in message
    assert "export AUDIT_DIR" in fix  # WORKSPACE is known at run time; defaults need nothing


def test_an_allow_list_entry_that_matches_nothing_says_did_you_mean():
    [(line, field, message, fix)] = problems_of(
        FILE.replace("{tool}", "file.write_file"), environment={"AUDIT_DIR": "/srv"}
    )
    assert field == "agents[1].tools[0]" and line == 16
    assert "'file.write_file'" in message and "Rex" in message
    assert fix.startswith("did you mean 'files.write_file'?")


def test_a_server_needs_exactly_one_transport():
    text = FILE.replace("{tool}", "files").replace("    command: npx\n", "    url: http://x/mcp\n")
    [(line, field, message, _)] = problems_of(text, environment={"AUDIT_DIR": "/"})
    assert field == "mcpServers.files" and "args" in message


def test_allow_lists_match_servers_tools_and_patterns():
    allowed = AllowList(("files.read_*", "git", "*.search"))
    assert allowed.allows(ToolRef("files", "read_text_file"))
    assert not allowed.allows(ToolRef("files", "write_file"))
    assert allowed.allows(ToolRef("git", "commit"))
    assert allowed.allows(ToolRef("web", "search"))
    assert AllowList(("files.read_*", "git")).servers(["files", "git", "web"]) == ["files", "git"]


def test_expansion_uses_the_environment_and_defaults():
    assert expand("${A}-${B:-b}-${C:-}", {"A": "a"}) == "a-b-"
    with pytest.raises(MissingVariable) as info:
        expand("${NOPE}", {})
    assert info.value.name == "NOPE"
    server = McpServer(url="http://h/mcp", headers={"Authorization": "Bearer ${T}"})
    assert server.variables() == {"T"}


def test_secrets_are_redacted_by_key():
    assert redact({"path": "a.txt", "apiKey": "k", "headers": {"Authorization": "B x"}}) == {
        "path": "a.txt",
        "apiKey": "[redacted]",
        "headers": {"Authorization": "[redacted]"},
    }
