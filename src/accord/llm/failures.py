"""Model faults in words a user can act on, as `ModelFailure`.

pydantic-ai sorts provider errors into categories (rate limit, unavailable, server error,
connection, timeout, rejected request, ...) whatever the vendor; this module turns them, and the
agent's own give-ups (output that never validated), into one `ModelFailure` with a message that
says what happened and what to check. Callers outside `llm/` only ever see `ModelFailure`.
"""

from pydantic import ValidationError
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    ToolRetryError,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.messages import RetryFeedbackPart

from accord.domain.errors import ModelFailure

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def is_transient(error: BaseException) -> bool:
    """Whether sending the same request again may succeed: rate limits, overload, server
    errors, timeouts, dropped connections and bodies that were not valid JSON."""
    if isinstance(error, ModelRequestTimeout):
        return False  # the overall deadline for the request is spent
    if isinstance(error, ModelRequestRejectedError | ModelQuotaExceededError):
        return False
    if isinstance(
        error, ModelRateLimitError | ModelUnavailableError | ModelServerError | ModelConnectionError
    ):
        return True
    if isinstance(error, ModelHTTPError):
        return error.status_code in RETRYABLE_STATUSES
    # An uncategorised API error is mostly a response the SDK could not decode (a gateway's
    # truncated or non-JSON body): worth one more try.
    return type(error) is ModelAPIError


def reason(error: BaseException) -> str:
    """What went wrong, in a few words, with the HTTP status where there was one."""
    status = f" (HTTP {error.status_code})" if isinstance(error, ModelHTTPError) else ""
    match error:
        case ModelRateLimitError():
            wait = f", asked to wait {error.retry_after:g}s" if error.retry_after else ""
            return f"rate limited{status}{wait}"
        case ModelQuotaExceededError():
            return f"the account's quota or credit is exhausted{status}"
        case ModelUnavailableError():
            return f"the model is unavailable or overloaded{status}"
        case ModelServerError():
            return f"the provider had a server error{status}"
        case ModelTimeoutError():
            return "the request timed out"
        case ModelConnectionError():
            return "the connection failed or was dropped before the answer was complete"
        case ModelRequestTimeout():
            return "the request ran out of time"
        case ModelAuthenticationError():
            return f"the provider rejected the API key{status}: check the provider's API key"
        case ModelNotFoundError():
            return f"the model was not found{status}: check the model name and the base URL"
        case ModelRequestRejectedError():
            return f"the provider rejected the request{status}: {error.message}"
        case ModelAPIError():
            return f"the provider's answer could not be used{status}: {error.message}"
        case _:
            return str(error) or type(error).__name__


def model_failure(error: BaseException) -> ModelFailure | None:
    """The `ModelFailure` for an exception raised by `Agent.run` (or a model call), or `None`
    when the exception is not a model fault (a bug, a cancellation) and should propagate.

    `ModelFailure` passes through unchanged: `build_model`'s models already raise it for
    provider faults once their retries are spent.
    """
    if isinstance(error, ModelFailure):
        return error
    if isinstance(error, ModelAPIError):
        failure = ModelFailure(
            f"Model {error.model_name!r} failed: {reason(error)}",
            details={"model": error.model_name, "transient": is_transient(error)},
        )
    elif isinstance(error, UsageLimitExceeded):
        failure = ModelFailure(f"The model used more than its limit: {error.message}")
    elif isinstance(error, UnexpectedModelBehavior):
        failure = ModelFailure(_unexpected_behaviour(error))
    else:
        return None
    failure.__cause__ = error
    return failure


def _unexpected_behaviour(error: UnexpectedModelBehavior) -> str:
    text = error.message
    if "retries" in text and _wrote_nothing(error):
        return (
            f"The model's answer was empty every time, even when asked again ({text}): small "
            "local models can stop at once on a long prompt; try a larger model, or a larger "
            "context on the server"
        )
    if "retries" in text and ("output" in text or "result" in text):
        return (
            "The model's answer did not match the required schema, even after it was shown "
            f"the validation errors ({text})" + _last_validation_error(error)
        )
    if "retries" in text and "tool" in text:
        return (
            "The model kept calling a tool with invalid arguments, even after it was shown "
            f"the validation errors ({text})" + _last_validation_error(error)
        )
    return f"The model behaved unexpectedly: {text}"


def _wrote_nothing(error: BaseException) -> bool:
    """Whether the last retry asked for an answer because the response held none."""
    cause = error.__cause__
    return (
        isinstance(cause, ToolRetryError)
        and isinstance(cause.tool_retry, RetryFeedbackPart)
        and cause.tool_retry.retry.cause == "no_output"
    )


def _last_validation_error(error: BaseException) -> str:
    """The last validation error, one `field: problem` per fault, without pydantic's URLs."""
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        faults = "; ".join(
            f"{'.'.join(str(p) for p in fault['loc']) or 'answer'}: {fault['msg']}"
            for fault in cause.errors()
        )
        return f"; last error: {faults}"
    return f"; last error: {cause}" if cause is not None else ""
