"""Row <-> domain conversions shared by the repositories."""

from datetime import UTC, datetime


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def to_epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())
