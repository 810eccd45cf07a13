"""`accord validate` on broken files: each problem's line and field named, no traceback."""

from pathlib import Path

from tests.cli.conftest import EXAMPLES, Accord

BASE = """\
name: Broken
workflowType: {type}
agents:
  - name: Ada
    role: developer
steps:
  - id: a
    name: A
    {a}
  - id: b
    name: B
    {b}
"""


def write(tmp_path: Path, name: str, *, type: str = "parallel", a: str = "", b: str = "") -> str:
    path = tmp_path / name
    path.write_text(BASE.format(type=type, a=a, b=b))
    return str(path)


def test_the_examples_validate_and_the_schema_command_prints_the_published_one(accord: Accord):
    files = sorted(EXAMPLES.glob("*.yaml"))
    out = accord("validate", *map(str, files)).stdout
    assert out.count("ok ") == len(files)
    committed = (EXAMPLES.parent / "schemas" / "workflow.schema.json").read_text()
    assert accord("schema").stdout == committed


def test_broken_files_name_line_and_field(accord: Accord, tmp_path: Path):
    files = [
        write(tmp_path, "cycle.yaml", a="dependsOn: [b]", b="dependsOn: [a]"),
        write(tmp_path, "agent.yaml", a="agent: Bob"),
        write(tmp_path, "missing.yaml", type="recursive", a="subWorkflow: nothing.yaml"),
        write(tmp_path, "self.yaml", type="recursive", a="subWorkflow: self.yaml"),
        write(tmp_path, "typo.yaml", b="dependOn: [a]"),
    ]
    done = accord("validate", *files, ok=False)
    assert done.returncode == 1
    err = " ".join(done.stderr.split())  # Rich may wrap long lines
    assert "cycle.yaml:12: steps[1].dependsOn: dependency cycle: b -> a -> b" in err
    assert "agent.yaml:9: steps[0].agent: step 'a' names unknown agent 'Bob'" in err
    assert "fix: use one of: Ada" in err
    assert "missing.yaml:9: steps[0].subWorkflow: no workflow file at 'nothing.yaml'" in err
    assert "self.yaml:9: steps[0].subWorkflow: self.yaml includes this file again" in err
    assert "typo.yaml:12: steps[1].dependOn: unknown field 'dependOn'" in err
    assert "Traceback" not in done.stderr


def test_a_misspelt_condition_or_a_decision_option_is_a_problem(accord: Accord, tmp_path: Path):
    """Both used to validate and then skip their steps at run time, every time."""
    path = tmp_path / "typos.yaml"
    path.write_text(
        """\
name: Typos
workflowType: conditional
agents: [{name: Q1, role: analyst}]
steps:
  - {id: pick, name: Pick, type: decision, decisionOptions: [bug, feature]}
  - {id: x, name: X, dependsOn: [pick], condition: 'decisions.pick.outcome == "Bug"'}
  - {id: y, name: Y, dependsOn: [pick], condition: 'steps.pick.confidnce > 0.5'}
"""
    )
    done = accord("validate", str(path), ok=False)
    assert done.returncode == 1
    err = " ".join(done.stderr.split())
    assert (
        "typos.yaml:6: steps[1].condition: step 'x' compares decisions.pick.outcome with 'Bug', "
        "which is not one of the options of 'pick': [bug, feature]"
    ) in err
    assert "fix: did you mean 'bug'? compare with one of: bug, feature" in err
    assert "typos.yaml:7: steps[2].condition: step 'y': steps.pick has no field 'confidnce'" in err
    assert "fix: did you mean 'confidence'? use one of: status, summary, output, data," in err
