"""Row <-> domain conversions shared by the repositories."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Result


def to_datetime(epoch: float) -> datetime:
    """A NOT NULL epoch column as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, tz=UTC)


def to_optional_datetime(epoch: float | None) -> datetime | None:
    """A nullable epoch column: None stays None."""
    return None if epoch is None else to_datetime(epoch)


def to_epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def affected_rows(result: Result[Any]) -> int:
    """The rows an INSERT, UPDATE or DELETE matched. `Session.execute` is typed to return a
    plain `Result`, but for a DML statement it is a `CursorResult`, which has the count."""
    assert isinstance(result, CursorResult)
    return result.rowcount


class Unset:
    """The default of an optional update argument: "leave as it is", unlike None ("clear")."""

    _instance: "Unset | None" = None

    def __new__(cls) -> "Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()
