"""Showing what installing a workflow file's `triggers:` block made (see
`accord.team.workflow_triggers`): a hook's or a notification's secret, the one time it is
shown."""

from accord.cli.context import err_console
from accord.cli.terminal import plain
from accord.domain.triggers import HookAuth, HookCreated, NotificationCreated


def show_new_secret(made: HookCreated | NotificationCreated) -> None:
    """Print a secret made just now: the one time anyone sees it."""
    if isinstance(made, HookCreated):
        err_console.print(
            f"Hook [bold]{plain(made.name)}[/]: POST {made.url_path}  "
            f"secret [bold]{plain(made.secret)}[/] (shown once; "
            f"{'sign the body with it' if made.auth is HookAuth.HMAC else 'send it as Bearer'})",
            highlight=False,
        )
    else:
        err_console.print(
            f"Notification to {plain(made.url)}: signing secret [bold]{plain(made.secret)}[/] "
            "(shown once)",
            highlight=False,
        )
