"""`accord` starts without importing what its command does not need (`accord.cli.lazy`)."""

import subprocess
import sys

from accord.cli.main import AccordCommands


def test_the_listed_help_of_each_command_is_its_own():
    """The root lists each command without importing it: its listed line must be the first
    line of the command's own help, as `accord COMMAND --help` shows it."""
    for lazy in AccordCommands.lazy_commands:
        own = lazy.command().help or ""
        assert " ".join(own.split("\n\n")[0].split()) == lazy.help, lazy.name


def test_help_and_a_command_that_touches_no_database_import_no_database_layer():
    probe = (
        "import sys\n"
        "from accord.cli.main import app\n"
        "for args in (['--help'], ['schema']):\n"
        "    try:\n"
        "        app(args, prog_name='accord')\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code in (0, None), exit.code\n"
        "loaded = sorted(m for m in ('sqlalchemy', 'alembic', 'dbos', 'pydantic_ai') "
        "if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: accord" in done.stdout and '"title": "Accord workflow"' in done.stdout
    assert "LOADED []" in done.stderr
