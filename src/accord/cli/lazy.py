"""Sub-commands imported when they run, not when `accord` starts.

Importing every command's module (SQLAlchemy, Alembic, the engine, pydantic models) took
seconds before `accord --help` could print a line. The root group instead lists each command
by name and one-line help, and imports a command's module only when that command is invoked
(or its own `--help` is asked for). `tests/cli/test_cli_startup.py` checks that the listed
help is the command's own.
"""

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """`target` is `module:attribute`: a Typer app (a group of commands) or a function (one
    command). `help` is what `accord --help` lists, the same as the target's own help."""

    name: str
    target: str
    help: str

    def load(self) -> Any:
        module, attribute = self.target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def command(self) -> Any:
        """The real Click command, built the way `add_typer`/`command()` on the root would."""
        root = typer.Typer()
        loaded = self.load()
        if isinstance(loaded, typer.Typer):
            root.add_typer(loaded, name=self.name)
        else:
            root.command(name=self.name)(loaded)
        return typer.main.get_group(root).commands[self.name]


class _Placeholder(TyperGroup):
    """Stands for a command in the root's listing; parsing its arguments hands over to the
    real command, so from then on Click only sees the real one."""

    def __init__(self, lazy: LazyCommand) -> None:
        super().__init__(name=lazy.name, help=lazy.help)
        self.lazy = lazy
        self._real: Any = None

    def real(self) -> Any:
        if self._real is None:
            self._real = self.lazy.command()
        return self._real

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        return self.real().make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """The root group: its commands are `lazy_commands`, in that order."""

    lazy_commands: tuple[LazyCommand, ...] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for lazy in self.lazy_commands:
            self.add_command(_Placeholder(lazy))
