"""From a provider definition to a pydantic-ai `Model`: the only place that knows vendors.

How the team calls the LLM layer, start to end:

    model = build_model(provider, api_key=secret, model_name=agent.model)
    agent = pydantic_ai.Agent(model, output_type=StepResult, instructions=..., tools=[...],
                              retries={"output": 2})
    try:
        result = await agent.run(prompt)
    except Exception as exc:
        failure = model_failure(exc)          # accord.llm.failures
        if failure is None:
            raise
        ...                                   # a failed attempt, with failure.message
    spent = usage_of(result.usage, model=model)   # accord.llm.usage: tokens, calls, cost

Each model `build_model` returns retries transient provider faults itself (see `retrying`)
and raises `ModelFailure` once they are spent; output that does not validate is sent back to
the model by the `Agent` (its `retries`), and `model_failure` words the final give-up.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from accord.domain.agent import OFFLINE_MODEL_NAME, LlmProvider, ModelPrice
from accord.domain.enums import ProviderKind
from accord.domain.errors import ModelFailure
from accord.llm.offline import OfflineModel
from accord.llm.output_modes import OutputMode, modes_to_try
from accord.llm.pricing import cost_usd
from accord.llm.retrying import RetryingModel, RetryPolicy

DEFAULT_TIMEOUT_SECONDS = 120.0
LOCAL_TIMEOUT_SECONDS = 600.0
"""OpenAI-compatible servers are mostly local (Ollama, llama.cpp) and slow on a CPU: a small
model on two cores writes a 2,000-token answer in minutes."""
CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_TOKENS = 2048
"""Every request carries an output limit: without one a looping small model writes until the
timeout (7,760 tokens in 834 s was seen)."""
DEFAULT_MODELS: Mapping[ProviderKind, str] = {
    ProviderKind.OPENAI: "gpt-4o-mini",
    ProviderKind.OPENAI_COMPATIBLE: "llama3.1",
    ProviderKind.ANTHROPIC: "claude-haiku-4-5",
    ProviderKind.OFFLINE: OFFLINE_MODEL_NAME,
}
_NO_KEY = "not-needed"
"""Sent to OpenAI-compatible servers that take no key (Ollama, llama.cpp): the SDK wants one."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds for one whole request (the answer included) and for connecting."""

    request: float
    connect: float


class ProviderModel(RetryingModel):
    """A vendor model as `build_model` returns it: retrying, and knowing its provider's kind
    and price overrides, so usage can be priced from the model alone."""

    def __init__(
        self, wrapped: Model, *, provider: LlmProvider, policy: RetryPolicy, max_tokens: int
    ) -> None:
        super().__init__(
            wrapped,
            policy=policy,
            description=f"{wrapped.model_name!r} from provider {provider.name!r} ({provider.kind})",
            stream=bool(provider.settings.get("stream", True)),
        )
        self.kind = provider.kind
        self.price_overrides: Mapping[str, ModelPrice] = dict(provider.price_overrides)
        self.max_tokens = max_tokens
        self.client: Any = None
        """The vendor SDK client, closed by `close_model` (its connections belong to the
        event loop that opened them)."""


def build_model(
    provider: LlmProvider,
    *,
    api_key: str | None,
    model_name: str | None = None,
    retry: RetryPolicy | None = None,
) -> Model:
    """The model an agent speaks through.

    `api_key` is the provider's decrypted key (the caller owns secrets; this layer never reads
    or logs them). `model_name` is the agent's model, overriding the provider's default.
    Provider `settings` understood: `timeoutSeconds` (one request; default 120, 600 for
    OpenAI-compatible servers, which are mostly slow local ones), `connectTimeoutSeconds` (10),
    `maxTokens` (the output limit every request carries; 2048), `outputMode` (see
    `output_modes`; read by the team through `provider_output_modes`), `maxRetries`
    (default 3), `retryInitialDelaySeconds` (0.5, doubled per retry), `retryMaxDelaySeconds`
    (20), `maxRetryAfterSeconds` (60: a longer `Retry-After` fails at once), `stream`
    (true: requests whose text someone watches are streamed; false for a server that
    mishandles streaming), and for the
    offline kind `seed`, `latencySeconds`, `changeRequestRate`, `questionRate`, `feedbackRate`,
    `delegateRate`.
    `retry` overrides the retry policy whatever the settings say.
    """
    settings = provider.settings
    name = provider_model_name(provider, model_name)
    if provider.kind == ProviderKind.OFFLINE:
        return OfflineModel(
            seed=int(settings.get("seed", 0)),
            latency_seconds=float(settings.get("latencySeconds", 0.0)),
            change_request_rate=float(settings.get("changeRequestRate", 0.0)),
            question_rate=float(settings.get("questionRate", 1.0)),
            feedback_rate=float(settings.get("feedbackRate", 0.5)),
            delegate_rate=float(settings.get("delegateRate", 0.0)),
        )
    policy = retry or _retry_policy(settings)
    default_timeout = (
        LOCAL_TIMEOUT_SECONDS
        if provider.kind == ProviderKind.OPENAI_COMPATIBLE
        else DEFAULT_TIMEOUT_SECONDS
    )
    timeout = Timeouts(
        request=float(settings.get("timeoutSeconds", default_timeout)),
        connect=float(settings.get("connectTimeoutSeconds", CONNECT_TIMEOUT_SECONDS)),
    )
    max_tokens = int(settings.get("maxTokens", DEFAULT_MAX_TOKENS))
    vendor_model, client = _vendor_model(
        provider,
        name,
        api_key=api_key,
        timeout=timeout,
        settings=ModelSettings(max_tokens=max_tokens),
    )
    model = ProviderModel(vendor_model, provider=provider, policy=policy, max_tokens=max_tokens)
    model.client = client
    model.request_timeout = timeout.request
    return model


async def close_model(model: Model) -> None:
    """Close the HTTP connections of a model `build_model` made (nothing to do for others):
    left open, they are closed at garbage collection, on an event loop that may be gone."""
    if isinstance(model, ProviderModel) and model.client is not None:
        await model.client.close()


def provider_output_modes(provider: LlmProvider, model_name: str | None = None) -> list[OutputMode]:
    """The output modes to try for `model_name` on `provider`, in order (see `output_modes`):
    the fixed `outputMode`, or the ladder from the mode detected earlier."""
    return modes_to_try(provider.settings, provider_model_name(provider, model_name))


def provider_model_name(provider: LlmProvider, model_name: str | None = None) -> str:
    """The model an agent on `provider` speaks through: its own, or the provider's default."""
    return model_name or provider.default_model or DEFAULT_MODELS[provider.kind]


def _retry_policy(settings: Mapping[str, Any]) -> RetryPolicy:
    default = RetryPolicy()
    return RetryPolicy(
        max_retries=int(settings.get("maxRetries", default.max_retries)),
        initial_delay=float(settings.get("retryInitialDelaySeconds", default.initial_delay)),
        max_delay=float(settings.get("retryMaxDelaySeconds", default.max_delay)),
        max_retry_after=float(settings.get("maxRetryAfterSeconds", default.max_retry_after)),
    )


def _vendor_model(
    provider: LlmProvider,
    name: str,
    *,
    api_key: str | None,
    timeout: "Timeouts",
    settings: ModelSettings,
) -> tuple[Model, Any]:
    """The vendor's model and its SDK client."""
    # The SDKs' own retries are off: `RetryingModel` owns retrying (see `retrying`).
    # The vendor SDKs are imported here, not at module level: they take seconds to import,
    # and a team on the offline model never needs them.
    match provider.kind:
        case ProviderKind.OPENAI:
            from openai import AsyncOpenAI, Timeout
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            client = AsyncOpenAI(
                api_key=_required(api_key, provider),
                base_url=provider.base_url,
                timeout=Timeout(timeout.request, connect=timeout.connect),
                max_retries=0,
            )
            return OpenAIChatModel(
                name, provider=OpenAIProvider(openai_client=client), settings=settings
            ), client
        case ProviderKind.OPENAI_COMPATIBLE:
            if not provider.base_url:
                raise ModelFailure(
                    f"Provider {provider.name!r} is OpenAI-compatible but has no base URL: set "
                    "baseUrl, e.g. http://localhost:11434/v1 for Ollama.",
                    details={"transient": False},
                )
            from openai import AsyncOpenAI, Timeout
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

            client = AsyncOpenAI(
                api_key=api_key or _NO_KEY,
                base_url=provider.base_url,
                timeout=Timeout(timeout.request, connect=timeout.connect),
                max_retries=0,
            )
            from pydantic_ai.profiles.openai import OpenAIModelProfile

            # Local servers (llama.cpp, Ollama, vLLM) all honour `max_tokens`; OpenAI's newer
            # `max_completion_tokens` is ignored by some, which lets a looping model run on.
            compatible = OpenAICompatibleProvider(
                provider.name,
                openai_client=client,
                profile=OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False),
            )
            return OpenAIChatModel(name, provider=compatible, settings=settings), client
        case ProviderKind.ANTHROPIC:
            from anthropic import AsyncAnthropic
            from anthropic import Timeout as AnthropicTimeout
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            anthropic = AsyncAnthropic(
                api_key=_required(api_key, provider),
                base_url=provider.base_url,
                timeout=AnthropicTimeout(timeout.request, connect=timeout.connect),
                max_retries=0,
            )
            return AnthropicModel(
                name, provider=AnthropicProvider(anthropic_client=anthropic), settings=settings
            ), anthropic
        case ProviderKind.OFFLINE:
            raise AssertionError("the offline model is not a vendor model")


def _required(api_key: str | None, provider: LlmProvider) -> str:
    if not api_key:
        raise ModelFailure(
            f"Provider {provider.name!r} ({provider.kind}) has no API key: "
            "add one to the provider.",
            details={"transient": False},
        )
    return api_key


def named_model(name: str) -> Model:
    """A model by its pydantic-ai name, `vendor:model` (`openai:gpt-4o-mini`,
    `anthropic:claude-sonnet-4-0`), with the vendor's key from its environment variable
    (`OPENAI_API_KEY`, ...); transient faults are retried as a provider's are."""
    from pydantic_ai.exceptions import UserError
    from pydantic_ai.models import infer_model

    try:
        model = infer_model(name)
    except UserError as exc:
        raise ModelFailure(
            f"cannot use model {name!r}: {exc}", details={"transient": False}
        ) from None
    return RetryingModel(model, policy=RetryPolicy(), description=repr(name))


def model_cost(model: Model) -> Callable[[int, int], float]:
    """US dollars for (input tokens, output tokens) of one call to `model`, with its provider's
    price overrides: what the team's metering needs per call."""
    kind = model.kind if isinstance(model, ProviderModel) else None
    overrides = model.price_overrides if isinstance(model, ProviderModel) else None
    name = model.model_name

    def cost(input_tokens: int, output_tokens: int) -> float:
        return cost_usd(name, input_tokens, output_tokens, overrides, kind=kind)

    return cost


@dataclass(frozen=True)
class ProviderDefinition:
    """A provider ready to be saved for a user (e.g. from the environment). The key is kept out
    of `repr` so it is never printed by accident."""

    name: str
    kind: ProviderKind
    default_model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    settings: dict[str, Any] = field(default_factory=dict)


OFFLINE_PROVIDER = ProviderDefinition(
    name="Offline (built in)", kind=ProviderKind.OFFLINE, default_model=OFFLINE_MODEL_NAME
)
"""Always available: needs no key and no network."""


def providers_from_environment(
    environ: Mapping[str, str] | None = None,
) -> list[ProviderDefinition]:
    """Providers described by the environment, for a quick start with real models.

    - `OPENAI_API_KEY`: OpenAI, or with `OPENAI_BASE_URL` (other than api.openai.com) an
      OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio); `OPENAI_BASE_URL` alone
      (a local server without a key) works too. `OPENAI_MODEL` picks the default model.
    - `ANTHROPIC_API_KEY` (with optional `ANTHROPIC_BASE_URL`, `ANTHROPIC_MODEL`): Anthropic.
    """
    env = os.environ if environ is None else environ
    found = []
    openai_key = env.get("OPENAI_API_KEY") or None
    openai_url = env.get("OPENAI_BASE_URL") or None
    if openai_url and "api.openai.com" not in openai_url:
        found.append(
            ProviderDefinition(
                name="OpenAI-compatible (from environment)",
                kind=ProviderKind.OPENAI_COMPATIBLE,
                default_model=env.get("OPENAI_MODEL")
                or DEFAULT_MODELS[ProviderKind.OPENAI_COMPATIBLE],
                base_url=openai_url,
                api_key=openai_key,
            )
        )
    elif openai_key:
        found.append(
            ProviderDefinition(
                name="OpenAI (from environment)",
                kind=ProviderKind.OPENAI,
                default_model=env.get("OPENAI_MODEL") or DEFAULT_MODELS[ProviderKind.OPENAI],
                base_url=openai_url,
                api_key=openai_key,
            )
        )
    if anthropic_key := env.get("ANTHROPIC_API_KEY"):
        found.append(
            ProviderDefinition(
                name="Anthropic (from environment)",
                kind=ProviderKind.ANTHROPIC,
                default_model=env.get("ANTHROPIC_MODEL") or DEFAULT_MODELS[ProviderKind.ANTHROPIC],
                base_url=env.get("ANTHROPIC_BASE_URL") or None,
                api_key=anthropic_key,
            )
        )
    return found
