"""What starts a workflow by itself: schedules, inbound webhooks, other workflows' ends, and
where Accord tells people about runs (outbound notifications).

Each is a resource of its own (it has state: paused, secrets, deliveries), attached to one
workflow of one user. The rules that need no database live here: a cron expression has five
fields and a valid time zone, an interval is one that a clock can repeat, a hook's input
selectors are `$.a.b[0]` paths, a notification names known events.
"""

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import ConfigDict, Field, field_validator, model_validator

from accord.domain.base import CamelModel


class CatchUp(StrEnum):
    """What a schedule does about ticks missed while no process ran."""

    SKIP = "skip"
    ONCE = "once"


class Overlap(StrEnum):
    """What a tick does while the workflow's previous run is still going."""

    SKIP = "skip"
    QUEUE = "queue"


class DependencyOutcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    ANY = "any"


class HookAuth(StrEnum):
    HMAC = "hmac"
    BEARER = "bearer"


class NotificationEvent(StrEnum):
    EXECUTION_COMPLETED = "execution.completed"
    EXECUTION_FAILED = "execution.failed"
    EXECUTION_CANCELLED = "execution.cancelled"
    APPROVAL_REQUESTED = "approval.requested"
    QUESTION_FOR_USER = "question.asked"


# An interval a clock can repeat: a number of seconds, minutes or hours that divides the next
# unit, or whole days. DBOS runs schedules from cron expressions (with a seconds field), and
# these are the intervals that cron can say exactly; others drift at each minute or hour.
_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_LIMIT = {"s": 60, "m": 60, "h": 24}


def interval_cron(every: str) -> str:
    """The six-field cron expression (seconds first) that fires every `every` (`30s`, `5m`,
    `2h`, `1d`); ValueError saying which intervals work otherwise."""
    match = _INTERVAL.match(every)
    if not match:
        raise ValueError(f"{every!r} is not an interval: write a number and s, m, h or d, e.g. 30s")
    amount, unit = int(match.group(1)), match.group(2)
    if amount < 1:
        raise ValueError("an interval must be at least 1")
    if unit == "d":
        if amount != 1:
            raise ValueError("use a cron expression for intervals of more than a day")
        return "0 0 0 * * *"
    if _UNIT_LIMIT[unit] % amount:
        divisors = [n for n in range(1, _UNIT_LIMIT[unit]) if _UNIT_LIMIT[unit] % n == 0]
        whole = {"s": "minute", "m": "hour", "h": "day"}[unit]
        raise ValueError(
            f"every {amount}{unit} does not divide the {whole}: "
            f"use one of {', '.join(f'{n}{unit}' for n in divisors)}, or a cron expression"
        )
    step = "*" if amount == 1 else f"*/{amount}"
    return {"s": f"{step} * * * * *", "m": f"0 {step} * * * *", "h": f"0 0 {step} * * *"}[unit]


class _Strict(CamelModel):
    """A field nobody reads is a typo: refused, in files and requests alike."""

    model_config = ConfigDict(extra="forbid")


class ScheduleSpec(_Strict):
    """A schedule as written (YAML `triggers.schedules[]`, the API): `cron` or `every`."""

    cron: str | None = None
    """Five fields: minute hour day-of-month month day-of-week, in `timezone`."""
    every: str | None = None
    """A plain interval: `30s`, `5m`, `2h`, `1d`."""
    timezone: str = "UTC"
    inputs: dict[str, Any] = Field(default_factory=dict)
    catch_up: CatchUp = CatchUp.SKIP
    overlap: Overlap = Overlap.SKIP
    paused: bool = False

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value.split()) != 5:
            raise ValueError(
                f"{value!r} has {len(value.split())} fields: a cron expression has five "
                "(minute hour day-of-month month day-of-week), e.g. '0 2 * * *'"
            )
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression, e.g. '0 2 * * *'")
        return value

    @field_validator("every")
    @classmethod
    def _clock_interval(cls, value: str | None) -> str | None:
        if value is not None:
            interval_cron(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Paris' or 'UTC'"
            ) from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "ScheduleSpec":
        if (self.cron is None) == (self.every is None):
            raise ValueError("give either cron (e.g. '0 2 * * *') or every (e.g. '1h'), not both")
        return self

    def dbos_cron(self) -> str:
        """The schedule as DBOS runs it: six fields, seconds first."""
        return f"0 {self.cron}" if self.cron is not None else interval_cron(self.every or "")

    def next_times(self, after: datetime, count: int = 3) -> list[datetime]:
        it = croniter(
            self.dbos_cron(),
            after.astimezone(ZoneInfo(self.timezone)),
            second_at_beginning=True,
        )
        return [it.get_next(datetime) for _ in range(count)]

    def previous_time(self, before: datetime) -> datetime:
        it = croniter(
            self.dbos_cron(),
            before.astimezone(ZoneInfo(self.timezone)),
            second_at_beginning=True,
        )
        previous: datetime = it.get_prev(datetime)
        return previous


_SELECTOR = re.compile(r"^\$(\.[A-Za-z_][\w-]*|\[\d+\])*$")


class HookSpec(_Strict):
    """An inbound webhook as written: how requests prove who sent them, and which parts of the
    request's JSON become the run's inputs (all of it when `inputs` is empty)."""

    name: str = Field(min_length=1, max_length=100)
    auth: HookAuth = HookAuth.HMAC
    inputs: dict[str, str] = Field(default_factory=dict)
    """Input name -> a selector into the request's JSON: `$.repository.full_name`,
    `$.commits[0].id`."""
    max_body_bytes: int = Field(default=1_000_000, ge=1, le=10_000_000)
    per_minute: int = Field(default=60, ge=1, le=10_000)
    """Requests a minute this hook accepts; more get 429."""

    @field_validator("inputs")
    @classmethod
    def _selectors(cls, value: dict[str, str]) -> dict[str, str]:
        for name, selector in value.items():
            if not _SELECTOR.match(selector):
                raise ValueError(
                    f"inputs.{name}: {selector!r} is not a selector: write $.field.sub or $.list[0]"
                )
        return value


def select(document: Any, selector: str) -> Any:
    """The value at `selector` in `document`, or None where the path does not exist."""
    value = document
    for key, index in re.findall(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]", selector):
        if key:
            value = value.get(key) if isinstance(value, dict) else None
        else:
            i = int(index)
            value = value[i] if isinstance(value, list) and i < len(value) else None
        if value is None:
            return None
    return value


class DependencySpec(_Strict):
    """Run this workflow when `workflow` (a name in YAML, an ID in the API) ends with `on`."""

    workflow: str = Field(min_length=1)
    on: DependencyOutcome = DependencyOutcome.COMPLETED


class NotificationSpec(_Strict):
    """An outbound webhook: each listed event is POSTed to `url`, signed with `secret`."""

    url: str = Field(min_length=1, max_length=2000)
    events: list[NotificationEvent] = Field(min_length=1)
    secret: str | None = None
    """`${VAR}` in YAML; generated when not given."""

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class HookCreate(HookSpec):
    secret: str | None = Field(default=None, min_length=16, max_length=500)
    """The shared secret (e.g. `${GITHUB_WEBHOOK_SECRET}` in a file); made when not given."""


class TriggersSpec(_Strict):
    """The `triggers:` block of a workflow file."""

    schedules: list[ScheduleSpec] = Field(default_factory=list)
    hooks: list[HookCreate] = Field(default_factory=list)
    after: list[DependencySpec] = Field(default_factory=list)
    notify: list[NotificationSpec] = Field(default_factory=list)


class Schedule(ScheduleSpec):
    model_config = ConfigDict(extra="ignore")

    id: str
    workflow_id: str
    next_runs: list[datetime] = Field(default_factory=list)
    last_fired_at: datetime | None = None
    created_at: datetime


class Hook(HookSpec):
    model_config = ConfigDict(extra="ignore")

    id: str
    workflow_id: str
    url_path: str
    last_delivery_at: datetime | None = None
    created_at: datetime


class HookCreated(Hook):
    """A hook just made: the only time its secret (or bearer token) is shown."""

    secret: str


class Dependency(CamelModel):
    id: str
    workflow_id: str
    user_id: str
    upstream_workflow_id: str
    upstream_workflow_name: str
    on: DependencyOutcome
    created_at: datetime


class Notification(CamelModel):
    id: str
    workflow_id: str | None
    url: str
    events: list[NotificationEvent]
    created_at: datetime


class NotificationCreated(Notification):
    secret: str


DeliveryStatus = Literal["pending", "delivered", "failed"]


class NotificationDelivery(CamelModel):
    id: str
    notification_id: str
    event: NotificationEvent
    execution_id: str | None
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    response_status: int | None
    created_at: datetime
    delivered_at: datetime | None


RETRY_DELAYS = (
    timedelta(seconds=1),
    timedelta(seconds=4),
    timedelta(seconds=15),
    timedelta(minutes=1),
    timedelta(minutes=5),
)
"""Backoff between delivery attempts; after the last one fails the delivery is `failed`
(redeliver it by hand)."""
