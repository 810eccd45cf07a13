"""From provider definitions to models, and ready-made providers from the environment."""

import pytest
from pydantic_ai import Agent

from accord.domain.agent import ModelPrice
from accord.domain.enums import ProviderKind
from accord.domain.errors import ModelFailure
from accord.domain.step_result import StepResult
from accord.llm.models import build_model, model_cost, providers_from_environment
from accord.llm.offline import OfflineModel
from accord.llm.testing import FakeOpenAIServer, Reply
from accord.llm.usage import usage_of
from tests.llm.conftest import make_provider


def test_an_offline_provider_gives_the_offline_model_with_its_settings() -> None:
    provider = make_provider(
        ProviderKind.OFFLINE,
        default_model="accord-offline",
        seed=7,
        latencySeconds=0.5,
        changeRequestRate=0,
    )

    model = build_model(provider, api_key=None)

    assert isinstance(model, OfflineModel)
    assert (model.seed, model.latency_seconds, model.change_request_rate) == (7, 0.5, 0.0)
    assert model.model_name == "accord-offline"


async def test_an_openai_compatible_server_needs_no_key_and_the_agent_model_wins() -> None:
    with FakeOpenAIServer([Reply.output({"summary": "s", "output": "o"})]) as server:
        provider = make_provider(
            ProviderKind.OPENAI_COMPATIBLE, base_url=server.base_url, default_model="llama3.1"
        )
        model = build_model(provider, api_key=None, model_name="qwen2.5:7b")

        await Agent(model, output_type=StepResult).run("Go.")

    request = server.requests[0]
    assert request.body["model"] == "qwen2.5:7b"
    assert request.headers["authorization"] == "Bearer not-needed"


async def test_the_api_key_is_sent_to_the_provider() -> None:
    with FakeOpenAIServer([Reply.output({"summary": "s", "output": "o"})]) as server:
        provider = make_provider(ProviderKind.OPENAI, base_url=server.base_url)
        model = build_model(provider, api_key="sk-secret")

        await Agent(model, output_type=StepResult).run("Go.")

    assert server.requests[0].headers["authorization"] == "Bearer sk-secret"


@pytest.mark.parametrize("kind", [ProviderKind.OPENAI, ProviderKind.ANTHROPIC])
def test_a_cloud_provider_without_a_key_is_refused_clearly(kind: ProviderKind) -> None:
    with pytest.raises(ModelFailure, match="has no API key: add one to the provider") as refused:
        build_model(make_provider(kind), api_key=None)
    assert refused.value.details["transient"] is False  # asking again cannot mend it


def test_an_openai_compatible_provider_without_a_base_url_is_refused_clearly() -> None:
    with pytest.raises(ModelFailure, match="has no base URL"):
        build_model(make_provider(ProviderKind.OPENAI_COMPATIBLE), api_key=None)


def test_the_models_cost_uses_the_providers_price_overrides() -> None:
    provider = make_provider(
        ProviderKind.OPENAI,
        default_model="gpt-4o-mini",
        price_overrides={"gpt-4o-mini": ModelPrice(input_per_mtok=100, output_per_mtok=200)},
    )
    model = build_model(provider, api_key="sk-test")

    assert model_cost(model)(10_000, 10_000) == pytest.approx(3.0)
    assert model_cost(build_model(make_provider(ProviderKind.OFFLINE), api_key=None))(9, 9) == 0


async def test_usage_of_a_run_is_priced_with_the_providers_overrides() -> None:
    with FakeOpenAIServer(
        [
            Reply.output(
                {"summary": "s", "output": "o"},
            )
        ]
    ) as server:
        provider = make_provider(
            ProviderKind.OPENAI_COMPATIBLE,
            base_url=server.base_url,
            default_model="local-model",
            price_overrides={"local-model": ModelPrice(input_per_mtok=1e6, output_per_mtok=0)},
        )
        model = build_model(provider, api_key=None)
        result = await Agent(model, output_type=StepResult).run("Go.")

    spent = usage_of(result.usage, model=model)
    assert spent.input_tokens == 10 and spent.cost_usd == pytest.approx(10.0)


def test_no_environment_no_providers() -> None:
    assert providers_from_environment({}) == []


def test_openai_and_anthropic_keys_give_two_providers() -> None:
    found = providers_from_environment(
        {"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a", "ANTHROPIC_MODEL": "claude-x"}
    )

    assert [(p.kind, p.default_model, p.api_key) for p in found] == [
        (ProviderKind.OPENAI, "gpt-4o-mini", "sk-o"),
        (ProviderKind.ANTHROPIC, "claude-x", "sk-a"),
    ]
    assert "sk-o" not in repr(found) and "sk-a" not in repr(found)


def test_a_local_base_url_gives_an_openai_compatible_provider_even_without_a_key() -> None:
    found = providers_from_environment(
        {"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_MODEL": "llama3.2"}
    )

    assert [(p.kind, p.base_url, p.default_model, p.api_key) for p in found] == [
        (ProviderKind.OPENAI_COMPATIBLE, "http://localhost:11434/v1", "llama3.2", None)
    ]


def test_the_openai_base_url_itself_still_means_openai() -> None:
    found = providers_from_environment(
        {"OPENAI_API_KEY": "sk-o", "OPENAI_BASE_URL": "https://api.openai.com/v1"}
    )

    assert [p.kind for p in found] == [ProviderKind.OPENAI]
