"""Retries with backoff around every provider call, whatever the vendor.

The SDK clients are built with their own retries off (`max_retries=0`) and this wrapper owns
retrying instead, for three reasons: the SDKs' backoff delays are fixed constants (tests need
them tiny, deployments may want them longer), they do not retry a 200 whose body is not JSON,
and one policy for every vendor is easier to reason about. The decision uses pydantic-ai's
vendor-neutral error categories (`ModelRateLimitError.retry_after` carries the provider's
`Retry-After`). Past the bound, the caller gets one `ModelFailure` saying what happened.

Two faults are not retried, because sending the request again only makes things worse:
- a server that rejects a request outright (HTTP 400/422, or a 500 saying the request failed
  its validation), or gives the same server error to every retry of it, will answer so every
  time: the failure is diagnosed once, naming what in
  the request the server refuses (tools, a JSON schema) and the `outputMode` to try, and is
  marked `rejected` (not transient) so that the team falls to the next output mode instead
  of the engine retrying the step;
- a request that timed out: its connection is closed (httpx drops it), so a single-slot local
  server can stop working on it, and a retry would only queue behind the abandoned work. Its
  tokens are estimated (`estimatedUsage`) so that what the server spent is still counted.
"""

import asyncio
import random
import time
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelHTTPError,
    ModelRequestRejectedError,
    ModelTimeoutError,
)
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from accord.domain.errors import ModelFailure
from accord.llm.failures import is_transient, reason
from accord.llm.streaming import observed, observed_request
from accord.llm.usage_estimate import estimate_tokens, with_usage

_REJECTING_STATUSES = frozenset({400, 422})


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

    def __init__(
        self, wrapped: Model, *, policy: RetryPolicy, description: str, stream: bool = True
    ) -> None:
        super().__init__(wrapped)
        self.policy = policy
        self.description = description
        self.stream = stream
        """Whether requests someone watches are streamed (see `accord.llm.streaming`)."""
        self.request_timeout: float | None = None
        """Seconds one whole streamed request may take (the SDK's timeout bounds each read of a
        stream, not the whole answer; an unstreamed request is bounded by the SDK)."""
        self.max_tokens: int | None = None
        """The output token limit its requests carry (for estimating a timed-out answer)."""
        self.tokens_per_second: float | None = None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        attempt = 1
        first: ModelAPIError | None = None
        all_same = True
        while True:
            started = time.monotonic()
            try:
                response = await self._request_once(
                    messages, model_settings, model_request_parameters
                )
            except ModelTimeoutError as error:
                raise self._timed_out(
                    error, messages, model_settings, time.monotonic() - started
                ) from error
            except ModelAPIError as error:
                first = first or error
                all_same = all_same and _same_error(first, error)
                if _rejecting(error):
                    raise self._rejected(error, attempt, model_request_parameters) from error
                delay = self.policy.delay_before_retry(attempt, error)
                if delay is None:
                    if attempt > 1 and all_same and _server_error(error):
                        raise self._rejected(error, attempt, model_request_parameters) from error
                    raise self._failure(error, attempt) from error
                await asyncio.sleep(delay)
                attempt += 1
            else:
                response = with_usage(messages, response)
                self._note_speed(response, time.monotonic() - started)
                return response

    async def _request_once(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        """One try, streamed when someone watches the model write (`accord.llm.streaming`)."""
        args = (self.wrapped, messages, model_settings, model_request_parameters)
        if not self.stream or not observed():
            return await _plain_request(*args)
        if self.request_timeout is None:
            return await observed_request(*args)
        try:
            async with asyncio.timeout(self.request_timeout):
                return await observed_request(*args)
        except TimeoutError:
            raise ModelTimeoutError(
                self.model_name,
                f"the streamed answer took longer than {self.request_timeout:g}s",
                phase="read",
            ) from None

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

    def _rejected(
        self, error: ModelAPIError, attempts: int, params: ModelRequestParameters
    ) -> ModelFailure:
        """The server refuses this request whatever happens: say what in it, and what to try."""
        said = f"{error.message} {error.body}".lower() if isinstance(error, ModelHTTPError) else ""
        schema_refused = params.output_mode == "native" and (
            "response_format" in said or "json_schema" in said
        )
        if (params.function_tools or params.output_tools) and not schema_refused:
            diagnosis = "the server rejects requests with tools: try outputMode prompted"
        elif params.output_mode == "native":
            diagnosis = (
                "the server rejects requests for JSON-schema output: try outputMode prompted"
            )
        else:
            diagnosis = "the server rejects even a plain request: check the server's log"
        again = f" (the same answer {attempts} times)" if attempts > 1 else ""
        return ModelFailure(
            f"Model {self.description} failed: {reason(error)}{again}; {diagnosis}",
            details={
                "attempts": attempts,
                "transient": False,
                "rejected": True,
                "diagnosis": f"{diagnosis} ({reason(error)})",
            },
        )

    def _timed_out(
        self,
        error: ModelTimeoutError,
        messages: list[ModelMessage],
        settings: ModelSettings | None,
        elapsed: float,
    ) -> ModelFailure:
        """A timed-out request, not retried, with an estimate of the tokens it cost."""
        max_tokens = int((settings or {}).get("max_tokens") or self.max_tokens or 0)
        input_tokens, output_tokens = estimate_tokens(
            messages, elapsed=elapsed, max_tokens=max_tokens, speed=self.tokens_per_second
        )
        return ModelFailure(
            f"Model {self.description} failed: {reason(error)} after {elapsed:.1f}s (the request "
            f"was cancelled, not retried; about {input_tokens + output_tokens} tokens estimated): "
            "raise the provider's timeoutSeconds, or lower its maxTokens",
            details={
                "transient": False,
                "timedOut": True,
                "estimatedUsage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
            },
        )

    def _note_speed(self, response: ModelResponse, elapsed: float) -> None:
        """Output tokens a second of the last answer, to estimate a timed-out one's."""
        if response.usage.output_tokens and elapsed > 0:
            self.tokens_per_second = response.usage.output_tokens / elapsed

    def _failure(self, error: ModelAPIError, attempts: int) -> ModelFailure:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return ModelFailure(
            f"Model {self.description} failed{tries}: {reason(error)}",
            details={"attempts": attempts, "transient": is_transient(error)},
        )


async def _plain_request(
    model: Model,
    messages: list[ModelMessage],
    model_settings: ModelSettings | None,
    model_request_parameters: ModelRequestParameters,
) -> ModelResponse:
    return await model.request(messages, model_settings, model_request_parameters)


def _same_error(first: ModelAPIError, error: ModelAPIError) -> bool:
    return (
        isinstance(first, ModelHTTPError)
        and isinstance(error, ModelHTTPError)
        and first.status_code == error.status_code
        and (first.message, first.body) == (error.message, error.body)
    )


def _server_error(error: ModelAPIError) -> bool:
    """A plain server error (not a rate limit or an overload, which say to wait)."""
    return isinstance(error, ModelHTTPError) and error.status_code in (500, 502)


def _rejecting(error: ModelAPIError) -> bool:
    return isinstance(error, ModelRequestRejectedError) or (
        isinstance(error, ModelHTTPError)
        and (error.status_code in _REJECTING_STATUSES or _invalid_request(error))
    )


_INVALID_REQUEST_CUES = ("validation error", "input should be", "extra inputs are not permitted")
"""What a server says when it could not read the request: pydantic's words, which servers
built on FastAPI (llama-cpp-python's among them) send back with HTTP 500, as when asked for a
`json_schema` response format they do not know."""


def _invalid_request(error: ModelHTTPError) -> bool:
    """A server error that says the request itself is invalid: sending it again cannot help."""
    if error.status_code != 500:
        return False
    said = f"{error.message} {error.body}".lower()
    return any(cue in said for cue in _INVALID_REQUEST_CUES)
