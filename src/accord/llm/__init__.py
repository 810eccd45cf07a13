"""The LLM layer: vendor models, the offline model, failures, usage and cost.

The only package that knows which vendor is behind an agent. Start at `accord.llm.models`
(its docstring shows the whole call sequence).
"""

import pydantic_ai

from accord.domain.agent import OFFLINE_MODEL_NAME
from accord.llm.failures import model_failure
from accord.llm.models import (
    OFFLINE_PROVIDER,
    ProviderDefinition,
    build_model,
    model_cost,
    providers_from_environment,
)
from accord.llm.offline import OfflineModel
from accord.llm.pricing import cost_usd, price_of
from accord.llm.retrying import RetryPolicy
from accord.llm.usage import usage_of

# Accord owns its terminal output (the live view): no first-run banner from pydantic-ai.
pydantic_ai.BANNER_ENABLED = False

__all__ = [
    "OFFLINE_MODEL_NAME",
    "OFFLINE_PROVIDER",
    "OfflineModel",
    "ProviderDefinition",
    "RetryPolicy",
    "build_model",
    "cost_usd",
    "model_cost",
    "model_failure",
    "price_of",
    "providers_from_environment",
    "usage_of",
]
