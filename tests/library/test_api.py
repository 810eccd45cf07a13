"""The public surface: what `import accord` offers, costs and documents."""

import dataclasses
import inspect
import subprocess
import sys

import pytest

import accord
from accord.domain.workflow import Constraints, Coordination
from accord.domain.workflow_file import StepSpec


def test_import_accord_loads_none_of_the_machinery():
    probe = (
        "import sys, accord; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'pydantic', 'pydantic_ai', 'dbos', 'httpx', 'yaml'})); "
        "accord.Workflow; print('accord.library.definition' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["[]", "True"]


@pytest.mark.parametrize("name", [n for n in accord.__all__ if n != "__version__"])
def test_every_public_name_resolves_and_says_what_it_is(name: str):
    value = getattr(accord, name)
    assert inspect.getdoc(value), f"accord.{name} has no docstring"
    if inspect.isclass(value) and value.__module__.startswith("accord.library"):
        for member_name, member in vars(value).items():
            if not member_name.startswith("_") and callable(member):
                assert inspect.getdoc(member), f"accord.{name}.{member_name} has no docstring"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Wrokflow'"):
        accord.Wrokflow  # noqa: B018


def field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_code_offers_every_field_a_workflow_file_has():
    """The Python classes cannot fall behind the file format."""
    file_step = set(StepSpec.model_fields) - {"preferred_agent_id", "sub_workflow_id"}
    assert field_names(accord.Step) == file_step
    assert field_names(accord.Coordination) == set(Coordination.model_fields)
    assert field_names(accord.Constraints) == set(Constraints.model_fields)
    for python, domain in ((accord.Coordination, Coordination), (accord.Constraints, Constraints)):
        assert dataclasses.asdict(python()) == domain().model_dump(by_alias=False)  # same defaults
