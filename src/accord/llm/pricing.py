"""What a model call costs: a per-model price table the user can override.

The table covers the common OpenAI and Anthropic models so that costs are known without a
network (the figures match the `genai-prices` list pydantic-ai bundles, in USD per million
tokens). A model the table does not know is looked up in that bundled list when its vendor
is a known cloud vendor; anything else (the offline model, a local Ollama or vLLM model)
costs nothing. A provider's `price_overrides` always win, so a user with negotiated prices
or a paid gateway can state them.
"""

from collections.abc import Mapping

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from accord.domain.agent import ModelPrice
from accord.domain.enums import ProviderKind

_PER_MILLION = 1_000_000


def _price(input_per_mtok: float, output_per_mtok: float) -> ModelPrice:
    return ModelPrice(input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok)


PRICE_TABLE: Mapping[str, ModelPrice] = {
    # OpenAI
    "gpt-4o": _price(2.50, 10.00),
    "gpt-4o-mini": _price(0.15, 0.60),
    "gpt-4.1": _price(2.00, 8.00),
    "gpt-4.1-mini": _price(0.40, 1.60),
    "gpt-4.1-nano": _price(0.10, 0.40),
    "gpt-5": _price(1.25, 10.00),
    "gpt-5-mini": _price(0.25, 2.00),
    "gpt-5-nano": _price(0.05, 0.40),
    "gpt-5.6-luna": _price(0.40, 1.80),
    "gpt-5.6-terra": _price(4.00, 18.00),
    "gpt-5.6-sol": _price(8.00, 30.00),
    "o3": _price(2.00, 8.00),
    "o4-mini": _price(1.10, 4.40),
    # Anthropic
    "claude-3-5-haiku-latest": _price(0.80, 4.00),
    "claude-haiku-4-5": _price(1.00, 5.00),
    "claude-sonnet-4-6": _price(3.00, 15.00),
    "claude-opus-4-8": _price(5.00, 25.00),
    "claude-haiku-5-5": _price(0.50, 2.50),
    "claude-sonnet-5-5": _price(2.00, 10.00),
    "claude-opus-5-5": _price(4.00, 20.00),
    # Built in
    "accord-offline": _price(0.0, 0.0),
}
"""USD per million input and output tokens, by the model name the vendor's API uses."""

FREE = _price(0.0, 0.0)

_BUNDLED_LIST_VENDORS = {ProviderKind.OPENAI: "openai", ProviderKind.ANTHROPIC: "anthropic"}


def price_of(
    model_name: str,
    *,
    kind: ProviderKind | None = None,
    overrides: Mapping[str, ModelPrice] | None = None,
) -> ModelPrice:
    """The price of `model_name`: the override, else the table, else (for a cloud `kind`) the
    bundled price list, else free."""
    if overrides and model_name in overrides:
        return overrides[model_name]
    if model_name in PRICE_TABLE:
        return PRICE_TABLE[model_name]
    vendor = _BUNDLED_LIST_VENDORS.get(kind) if kind is not None else None
    if vendor is None:
        return FREE
    try:
        found = calc_price(
            PriceUsage(input_tokens=_PER_MILLION, output_tokens=_PER_MILLION),
            model_name,
            provider_id=vendor,
        )
    except (LookupError, ValueError):
        return FREE
    return _price(float(found.input_price), float(found.output_price))


def cost_usd(
    model_name: str,
    input_tokens: int,
    output_tokens: int,
    overrides: Mapping[str, ModelPrice] | None = None,
    *,
    kind: ProviderKind | None = None,
) -> float:
    """What `input_tokens` in and `output_tokens` out of `model_name` cost, in US dollars."""
    price = price_of(model_name, kind=kind, overrides=overrides)
    return (
        input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok
    ) / _PER_MILLION
