"""Finding one resource among a user's by what people type: an ID, a name, or a prefix."""

from collections.abc import Callable, Iterable
from typing import TypeVar

from accord.domain.agent import same_name
from accord.domain.errors import AccordError, NotFound

T = TypeVar("T")


def pick(
    items: Iterable[T],
    wanted: str,
    *,
    kind: str,
    name: Callable[[T], str],
    ident: Callable[[T], str],
) -> T:
    """Find a resource by ID, by name, or by a unique ID or name prefix (as people type)."""
    items = list(items)
    lowered = wanted.lower()
    matchers: tuple[Callable[[T], bool], ...] = (
        lambda i: ident(i) == wanted,
        lambda i: name(i) == wanted,
        lambda i: same_name(name(i), wanted),
        lambda i: ident(i).startswith(wanted),
        lambda i: name(i).lower().startswith(lowered),
    )
    for match in matchers:
        found = [i for i in items if match(i)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise AccordError(f"{len(found)} {kind}s match {wanted!r}; give the full ID")
    raise NotFound(kind, wanted)
