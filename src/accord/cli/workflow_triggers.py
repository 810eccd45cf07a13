"""Showing what installing a workflow file's `triggers:` block made (see
`accord.team.workflow_triggers`): a hook's or a notification's secret, the one time it is
shown."""

from rich.markup import escape

from accord.cli.context import err_console
from accord.domain.triggers import HookAuth, HookCreated, NotificationCreated


def show_new_secret(made: HookCreated | NotificationCreated) -> None:
    """Print a secret made just now: the one time anyone sees it."""
    if isinstance(made, HookCreated):
        err_console.print(
            f"Hook [bold]{escape(made.name)}[/]: POST {made.url_path}  "
            f"secret [bold]{escape(made.secret)}[/] (shown once; "
            f"{'sign the body with it' if made.auth is HookAuth.HMAC else 'send it as Bearer'})",
            highlight=False,
        )
    else:
        err_console.print(
            f"Notification to {escape(made.url)}: signing secret [bold]{escape(made.secret)}[/] "
            "(shown once)",
            highlight=False,
        )
