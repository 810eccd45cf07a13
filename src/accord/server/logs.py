"""Keep sign-in secrets out of the server's logs.

The one-time login and setup links carry their secret in the query (`?token=...`), and
uvicorn's access log prints every request's path with its query. `HideSecrets` blanks the
value of any `token` query parameter in access log records before they are formatted.
"""

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_SECRET_PARAMETER = re.compile(r"([?&](?:token|setup_token|access_token)=)[^&\s]*", re.IGNORECASE)


def hide_secrets(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1[hidden]", text)


class HideSecrets(logging.Filter):
    """Rewrites the path in uvicorn's access records (and any message) with secrets hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(hide_secrets(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = hide_secrets(record.msg)
        return True


def uvicorn_log_config(*, as_json: bool = False) -> dict[str, Any] | None:
    """uvicorn's own logging configuration with `HideSecrets` on its access log. In JSON
    (`accord.telemetry.logs`) uvicorn leaves its loggers to the root's handler (None), so the
    filter goes on the access logger itself."""
    if as_json:
        logging.getLogger("uvicorn.access").addFilter(HideSecrets())
        return None
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["hide_secrets"] = {"()": HideSecrets}
    config["handlers"]["access"].setdefault("filters", []).append("hide_secrets")
    return config
