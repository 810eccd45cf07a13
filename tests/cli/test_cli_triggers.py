"""A workflow file's `triggers:` block and the `accord triggers / hooks / notifications`
commands, through the real `accord` command."""

from pathlib import Path

from cli.conftest import Accord, json_of

NIGHTLY = """\
name: Nightly digest
agents:
  - name: Ada
    role: analyst
steps:
  - id: digest
    name: Summarise the day
triggers:
  schedules:
    - cron: "0 2 * * *"
      timezone: Europe/Paris
      inputs: {topic: releases}
  hooks:
    - name: github-push
      inputs: {repo: $.repository.full_name}
  notify:
    - url: http://127.0.0.1:9/hook
      events: [execution.completed]
"""


def test_a_files_triggers_are_installed_once_and_secrets_shown_once(
    accord: Accord, tmp_path: Path
) -> None:
    (tmp_path / "nightly.yaml").write_text(NIGHTLY)
    first = accord("workflows", "create", "nightly.yaml")
    assert "Hook github-push: POST /api/v1/hooks/" in first.stderr
    assert "signing secret" in first.stderr
    again = accord("workflows", "create", "nightly.yaml")
    assert "secret" not in again.stderr  # unchanged triggers keep their secrets

    listed = json_of(accord("triggers", "list", "Nightly digest", "--json"))
    [schedule] = listed["schedules"]
    assert schedule["cron"] == "0 2 * * *" and schedule["timezone"] == "Europe/Paris"
    assert schedule["inputs"] == {"topic": "releases"}
    assert len(schedule["nextRuns"]) == 3 and schedule["nextRuns"][0].endswith("02:00:00+01:00")
    [hook] = listed["hooks"]
    assert hook["name"] == "github-push" and "secret" not in hook
    [notification] = json_of(accord("notifications", "list", "--json"))
    assert notification["events"] == ["execution.completed"]

    # The file is the truth: a trigger it no longer lists is removed.
    (tmp_path / "nightly.yaml").write_text(NIGHTLY.split("  hooks:")[0])
    accord("workflows", "create", "nightly.yaml")
    listed = json_of(accord("triggers", "list", "Nightly digest", "--json"))
    assert listed["hooks"] == [] and len(listed["schedules"]) == 1
    assert json_of(accord("notifications", "list", "--json")) == []

    accord("triggers", "pause", schedule["id"][:8])
    paused = json_of(accord("triggers", "list", "Nightly digest", "--json"))["schedules"][0]
    assert paused["paused"] is True


def test_bad_triggers_in_a_file_name_their_line_and_field(accord: Accord, tmp_path: Path) -> None:
    broken = NIGHTLY.replace('"0 2 * * *"', '"0 2 * *"') + "  after:\n    - workflow: Nope\n"
    (tmp_path / "broken.yaml").write_text(broken)
    done = accord("validate", "broken.yaml", ok=False)
    assert done.returncode == 1
    assert "broken.yaml:10: triggers.schedules[0].cron" in done.stderr
    assert "five" in done.stderr

    (tmp_path / "after.yaml").write_text(NIGHTLY + "  after:\n    - workflow: Nope\n")
    done = accord("workflows", "create", "after.yaml", ok=False)
    assert "triggers.after[0].workflow" in done.stderr and "no workflow named 'Nope'" in done.stderr


def test_dependencies_and_hooks_from_the_command_line(accord: Accord, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(NIGHTLY.split("triggers:")[0].replace("Nightly digest", "A"))
    (tmp_path / "b.yaml").write_text(NIGHTLY.split("triggers:")[0].replace("Nightly digest", "B"))
    accord("workflows", "create", "a.yaml")
    accord("workflows", "create", "b.yaml")
    accord("triggers", "add", "B", "--after", "A", "--on", "any")
    cycle = accord("triggers", "add", "A", "--after", "B", ok=False)
    assert "cycle" in cycle.stderr and "'A'" in cycle.stderr and "'B'" in cycle.stderr
    made = accord("hooks", "create", "A", "tickets", "--auth", "bearer", "--input", "id=$.issue.id")
    assert "send it as Bearer" in made.stderr
    [hook] = json_of(accord("hooks", "list", "A", "--json"))
    assert hook["auth"] == "bearer" and hook["inputs"] == {"id": "$.issue.id"}
    [dependency] = json_of(accord("triggers", "list", "B", "--json"))["dependencies"]
    assert dependency["upstreamWorkflowName"] == "A" and dependency["on"] == "any"
