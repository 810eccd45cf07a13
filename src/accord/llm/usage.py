"""Turn pydantic-ai's token counts into Accord's `Usage`, priced.

Call `usage_of(result.usage, model=model)` after an agent run (or once per model response,
with `response.usage`) and add the results up: `Usage` supports `+`, so totals per step, agent
and execution are sums of these. For a per-call price function, see `models.model_cost`.
"""

from collections.abc import Mapping

from pydantic_ai.models import Model
from pydantic_ai.usage import RequestUsage, RunUsage

from accord.domain.agent import ModelPrice
from accord.domain.execution import Usage
from accord.llm.models import ProviderModel
from accord.llm.pricing import cost_usd


def usage_of(
    usage: RunUsage | RequestUsage,
    *,
    model: Model | str,
    price_overrides: Mapping[str, ModelPrice] | None = None,
) -> Usage:
    """The tokens, calls and cost of one run (`RunUsage`) or one model response (`RequestUsage`).

    `model` is the model that was called (a `build_model` result, which knows its provider's
    price overrides) or just its name; `price_overrides` wins over both.
    """
    model_name = model if isinstance(model, str) else model.model_name
    kind = model.kind if isinstance(model, ProviderModel) else None
    if price_overrides is None and isinstance(model, ProviderModel):
        price_overrides = model.price_overrides
    calls = usage.requests if isinstance(usage, RunUsage) else 1
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost_usd(
            model_name, usage.input_tokens, usage.output_tokens, price_overrides, kind=kind
        ),
        model_calls=calls,
    )
