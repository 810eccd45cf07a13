"""Row <-> domain conversions shared by the repositories."""

from datetime import UTC, datetime


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def to_epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


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
