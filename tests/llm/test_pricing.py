"""Prices per model, overrides, and usage priced from a run."""

import pytest
from pydantic_ai.usage import RequestUsage, RunUsage

from accord.domain.agent import ModelPrice
from accord.domain.enums import ProviderKind
from accord.llm.pricing import cost_usd, price_of
from accord.llm.usage import usage_of


def test_a_known_model_costs_its_table_price() -> None:
    # gpt-4o-mini: $0.15 in, $0.60 out per million tokens.
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("claude-sonnet-4-6", 2_000, 1_000) == pytest.approx(0.006 + 0.015)


def test_an_override_wins_over_the_table() -> None:
    overrides = {"gpt-4o-mini": ModelPrice(input_per_mtok=1.0, output_per_mtok=2.0)}
    assert cost_usd("gpt-4o-mini", 1_000_000, 500_000, overrides) == pytest.approx(2.0)


def test_an_override_prices_a_model_the_table_does_not_know() -> None:
    overrides = {"my-finetune": ModelPrice(input_per_mtok=10.0, output_per_mtok=20.0)}
    assert cost_usd("my-finetune", 100_000, 100_000, overrides) == pytest.approx(3.0)


def test_offline_and_local_models_are_free() -> None:
    assert cost_usd("accord-offline", 10_000, 10_000) == 0.0
    assert cost_usd("llama3.1", 10_000, 10_000, kind=ProviderKind.OPENAI_COMPATIBLE) == 0.0
    assert price_of("qwen2.5:7b") == ModelPrice(input_per_mtok=0, output_per_mtok=0)


def test_a_cloud_model_missing_from_the_table_is_priced_from_the_bundled_list() -> None:
    price = price_of("gpt-4o-2024-08-06", kind=ProviderKind.OPENAI)
    assert price.input_per_mtok > 0 and price.output_per_mtok > price.input_per_mtok


def test_run_usage_becomes_priced_usage() -> None:
    spent = usage_of(
        RunUsage(requests=3, input_tokens=400_000, output_tokens=100_000), model="gpt-4o-mini"
    )
    assert (spent.input_tokens, spent.output_tokens, spent.model_calls) == (400_000, 100_000, 3)
    assert spent.cost_usd == pytest.approx(0.06 + 0.06)


def test_usage_of_one_response_counts_one_call_and_adds_up() -> None:
    one = usage_of(RequestUsage(input_tokens=1_000, output_tokens=1_000), model="gpt-4o")
    total = one + one
    assert total.model_calls == 2
    assert total.total_tokens == 4_000
    assert total.cost_usd == pytest.approx(2 * (0.0025 + 0.01))
