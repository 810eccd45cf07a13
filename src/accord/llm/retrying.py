"""Retries with backoff around every provider call, whatever the vendor.

The SDK clients are built with their own retries off (`max_retries=0`) and this wrapper owns
retrying instead, for three reasons: the SDKs' backoff delays are fixed constants (tests need
them tiny, deployments may want them longer), they do not retry a 200 whose body is not JSON,
and one policy for every vendor is easier to reason about. The decision uses pydantic-ai's
vendor-neutral error categories (`ModelRateLimitError.retry_after` carries the provider's
`Retry-After`). Past the bound, the caller gets one `ModelFailure` saying what happened.
"""

import asyncio
import random
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.exceptions import ModelAPIError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from accord.domain.errors import ModelFailure
from accord.llm.failures import is_transient, reason


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed model request is sent again."""

    max_retries: int = 3
    """Retries after the first attempt: a request is sent at most `1 + max_retries` times."""
    initial_delay: float = 0.5
    """Seconds before the first retry; doubled for each further one (with jitter)."""
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    """A provider asking to wait longer than this (`Retry-After`) is not waited for."""
    jitter: float = 0.25
    """Up to this fraction is taken off each backoff delay, so clients do not retry in step."""

    def delay_before_retry(self, retry: int, error: BaseException) -> float | None:
        """Seconds to wait before retry number `retry` (1-based), or `None` to give up."""
        if retry > self.max_retries or not is_transient(error):
            return None
        retry_after = error.retry_after if isinstance(error, ModelAPIError) else None
        if retry_after is not None and retry_after > 0:
            return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.initial_delay * 2.0 ** (retry - 1), self.max_delay)
        return backoff * (1 - self.jitter * random.random())


class RetryingModel(WrapperModel):
    """A provider model that retries transient faults and raises `ModelFailure` past the bound.

    `description` names the model for people (e.g. `'gpt-4o-mini' from provider 'Work OpenAI'`).
    """

    def __init__(self, wrapped: Model, *, policy: RetryPolicy, description: str) -> None:
        super().__init__(wrapped)
        self.policy = policy
        self.description = description

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        attempt = 1
        while True:
            try:
                return await self.wrapped.request(
                    messages, model_settings, model_request_parameters
                )
            except ModelAPIError as error:
                await self._wait_or_fail(attempt, error)
                attempt += 1

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """Retries opening the stream; a stream that breaks once events flow is not replayed
        (the caller has seen part of it), it fails with `ModelFailure`."""
        async with AsyncExitStack() as stack:
            attempt = 1
            while True:
                opening = self.wrapped.request_stream(
                    messages, model_settings, model_request_parameters, run_context
                )
                try:
                    stream = await stack.enter_async_context(opening)
                    break
                except ModelAPIError as error:
                    await self._wait_or_fail(attempt, error)
                    attempt += 1
            try:
                yield stream
            except ModelAPIError as error:
                raise self._failure(error, attempt) from error

    async def _wait_or_fail(self, attempt: int, error: ModelAPIError) -> None:
        delay = self.policy.delay_before_retry(attempt, error)
        if delay is None:
            raise self._failure(error, attempt) from error
        await asyncio.sleep(delay)

    def _failure(self, error: ModelAPIError, attempts: int) -> ModelFailure:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return ModelFailure(
            f"Model {self.description} failed{tries}: {reason(error)}",
            details={"attempts": attempts, "transient": is_transient(error)},
        )
