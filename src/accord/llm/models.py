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

from accord.domain.agent import OFFLINE_MODEL_NAME, LlmProvider, ModelPrice
from accord.domain.enums import ProviderKind
from accord.domain.errors import ModelFailure
from accord.llm.offline import OfflineModel
from accord.llm.pricing import cost_usd
from accord.llm.retrying import RetryingModel, RetryPolicy

DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_MODELS: Mapping[ProviderKind, str] = {
    ProviderKind.OPENAI: "gpt-4o-mini",
    ProviderKind.OPENAI_COMPATIBLE: "llama3.1",
    ProviderKind.ANTHROPIC: "claude-haiku-4-5",
    ProviderKind.OFFLINE: OFFLINE_MODEL_NAME,
}
_NO_KEY = "not-needed"
"""Sent to OpenAI-compatible servers that take no key (Ollama, llama.cpp): the SDK wants one."""


class ProviderModel(RetryingModel):
    """A vendor model as `build_model` returns it: retrying, and knowing its provider's kind
    and price overrides, so usage can be priced from the model alone."""

    def __init__(self, wrapped: Model, *, provider: LlmProvider, policy: RetryPolicy) -> None:
        super().__init__(
            wrapped,
            policy=policy,
            description=f"{wrapped.model_name!r} from provider {provider.name!r} ({provider.kind})",
        )
        self.kind = provider.kind
        self.price_overrides: Mapping[str, ModelPrice] = dict(provider.price_overrides)


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
    Provider `settings` understood: `timeoutSeconds` (one attempt; default 120), `maxRetries`
    (default 3), `retryInitialDelaySeconds` (0.5, doubled per retry), `retryMaxDelaySeconds`
    (20), `maxRetryAfterSeconds` (60: a longer `Retry-After` fails at once), and for the
    offline kind `seed`, `latencySeconds`, `changeRequestRate`, `questionRate`, `feedbackRate`,
    `delegateRate`.
    `retry` overrides the retry policy whatever the settings say.
    """
    settings = provider.settings
    name = model_name or provider.default_model or DEFAULT_MODELS[provider.kind]
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
    timeout = float(settings.get("timeoutSeconds", DEFAULT_TIMEOUT_SECONDS))
    return ProviderModel(
        _vendor_model(provider, name, api_key=api_key, timeout=timeout),
        provider=provider,
        policy=policy,
    )


def _retry_policy(settings: Mapping[str, Any]) -> RetryPolicy:
    default = RetryPolicy()
    return RetryPolicy(
        max_retries=int(settings.get("maxRetries", default.max_retries)),
        initial_delay=float(settings.get("retryInitialDelaySeconds", default.initial_delay)),
        max_delay=float(settings.get("retryMaxDelaySeconds", default.max_delay)),
        max_retry_after=float(settings.get("maxRetryAfterSeconds", default.max_retry_after)),
    )


def _vendor_model(
    provider: LlmProvider, name: str, *, api_key: str | None, timeout: float
) -> Model:
    # The SDKs' own retries are off: `RetryingModel` owns retrying (see `retrying`).
    # The vendor SDKs are imported here, not at module level: they take seconds to import,
    # and a team on the offline model never needs them.
    match provider.kind:
        case ProviderKind.OPENAI:
            from openai import AsyncOpenAI
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            client = AsyncOpenAI(
                api_key=_required(api_key, provider),
                base_url=provider.base_url,
                timeout=timeout,
                max_retries=0,
            )
            return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))
        case ProviderKind.OPENAI_COMPATIBLE:
            if not provider.base_url:
                raise ModelFailure(
                    f"Provider {provider.name!r} is OpenAI-compatible but has no base URL: set "
                    "baseUrl, e.g. http://localhost:11434/v1 for Ollama.",
                    details={"transient": False},
                )
            from openai import AsyncOpenAI
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

            client = AsyncOpenAI(
                api_key=api_key or _NO_KEY,
                base_url=provider.base_url,
                timeout=timeout,
                max_retries=0,
            )
            return OpenAIChatModel(
                name, provider=OpenAICompatibleProvider(provider.name, openai_client=client)
            )
        case ProviderKind.ANTHROPIC:
            from anthropic import AsyncAnthropic
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            anthropic = AsyncAnthropic(
                api_key=_required(api_key, provider),
                base_url=provider.base_url,
                timeout=timeout,
                max_retries=0,
            )
            return AnthropicModel(name, provider=AnthropicProvider(anthropic_client=anthropic))
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
