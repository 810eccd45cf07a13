"""`accord users` and `accord tokens`: the first administrator and tokens made on the
server's machine (in-process through Typer's runner: these commands are quick)."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from accord.cli.main import app
from accord.domain.errors import AccordError
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[CliRunner, dict[str, str]]]:
    umask = os.umask(0o022)  # `accord` sets 0o077 for the process: restore it after
    os.umask(umask)
    yield CliRunner(), {"ACCORD_DATA_DIR": str(tmp_path), "COLUMNS": "200", "NO_COLOR": "1"}
    os.umask(umask)


def run(cli: tuple[CliRunner, dict[str, str]], *args: str, stdin: str = "") -> Result:
    runner, env = cli
    return runner.invoke(app, list(args), input=stdin, env=env)


def refusal(result: Result) -> str:
    """The message `accord` prints for a refused command (the runner bypasses the printing
    wrapper, so it is read from the error)."""
    assert isinstance(result.exception, AccordError), result.output
    return str(result.exception)


def test_the_first_administrator_users_and_their_passwords(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    made = run(
        cli,
        "users",
        "create",
        "ann@example.test",
        "--admin",
        "--password-stdin",
        "--json",
        stdin="a long password\n",
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["isAdmin"] is True
    assert run(cli, "users", "create", "bob@example.test", "--no-password").exit_code == 0
    taken = run(cli, "users", "create", "BOB@example.test", "--no-password")
    assert "already exists" in refusal(taken)

    listed = json.loads(run(cli, "users", "list", "--json").stdout)
    assert [(u["email"], u["isAdmin"], u["hasPassword"]) for u in listed] == [
        ("ann@example.test", True, True),
        ("bob@example.test", False, False),
    ]
    last = run(cli, "users", "disable", "ann@example.test")
    assert "last enabled administrator" in refusal(last)
    assert run(cli, "users", "disable", "bob@example.test").exit_code == 0

    short = run(
        cli, "users", "reset-password", "bob@example.test", "--password-stdin", stdin="short\n"
    )
    assert "10 to 1000 characters" in refusal(short)
    reset = run(
        cli,
        "users",
        "reset-password",
        "ann@example.test",
        "--password-stdin",
        stdin="another long one\n",
    )
    assert reset.exit_code == 0, reset.output

    token = run(
        cli, "tokens", "create", "ci", "--user", "ann@example.test", "--scope", "run", "--json"
    )
    secret = json.loads(token.stdout)["token"]
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    try:
        with db.read_session() as s:
            users = UserRepository(s)
            assert users.authenticate("ann@example.test", "another long one") is not None
            assert users.authenticate("ann@example.test", "a long password") is None
            assert users.find("bob@example.test").disabled
            assert TokenRepository(s).verify(secret).token.scope == "run"
    finally:
        db.dispose()
