"""Names people look things up by: unique per user, ignoring case.

The CLI finds agents, providers and templates by name, and workflow files refer to agents and
providers by name, so two of one user's things sharing a name make every such lookup fail.
The rule is checked here, in the repositories, so the API and the CLI share it. There is no
unique index behind it: databases from before the rule may hold duplicates (an index would
refuse to build on them), and those keep working; only new duplicates are refused.
"""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from accord.domain.agent import same_name
from accord.domain.errors import Conflict, InvalidInput


def check_name_free(
    session: Session,
    candidates: Select[tuple[Any, Any]],
    *,
    kind: str,
    name: str,
    own_id: str | None = None,
) -> None:
    """Refuse a blank `name`, or one of the (id, name) rows of `candidates` (the user's other
    `kind`s) already has, naming the existing one and the way out."""
    article = "an" if kind[:1] in "aeiou" else "a"
    if not name.strip():
        raise InvalidInput.of("name", f"{article} {kind}'s name cannot be blank", "give a name")
    for other_id, other_name in session.execute(candidates):
        if other_id != own_id and same_name(other_name, name):
            raise Conflict(
                f"{article} {kind} named {other_name!r} already exists ({other_id}); names are "
                f"unique (ignoring case) so that a name finds one {kind}: pick another name, "
                f"or update the existing {kind} instead",
                details={"field": "name", "kind": kind, "name": name, "existingId": other_id},
            )
