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
    close_model,
    model_cost,
    named_model,
    provider_model_name,
    provider_output_modes,
    providers_from_environment,
)
from accord.llm.offline import OfflineModel
from accord.llm.output_modes import (
    DETECTED_SETTING,
    OUTPUT_MODES,
    OutputMode,
    detected_mode,
    mode_failure,
    model_for_mode,
    output_spec,
    text_mode_hint,
)
from accord.llm.pricing import cost_usd, price_of
from accord.llm.retrying import RetryPolicy
from accord.llm.usage import usage_of

# Accord owns its terminal output (the live view): no first-run banner from pydantic-ai.
pydantic_ai.BANNER_ENABLED = False

__all__ = [
    "DETECTED_SETTING",
    "OFFLINE_MODEL_NAME",
    "OUTPUT_MODES",
    "OFFLINE_PROVIDER",
    "OfflineModel",
    "OutputMode",
    "ProviderDefinition",
    "RetryPolicy",
    "build_model",
    "close_model",
    "cost_usd",
    "detected_mode",
    "model_cost",
    "mode_failure",
    "model_failure",
    "model_for_mode",
    "output_spec",
    "named_model",
    "price_of",
    "provider_model_name",
    "provider_output_modes",
    "providers_from_environment",
    "text_mode_hint",
    "usage_of",
]
