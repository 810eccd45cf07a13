"""Which model speaks for an agent: its provider's, through the LLM layer.

An agent without a provider (never given one, or its provider was deleted) works on the
built-in offline model, seeded by the agent's ID so that teammates do not answer alike,
unless its `model` is a pydantic-ai model name (`openai:gpt-4o-mini`). A model given to the
Python library as an object exists only in the process that holds it (which supplies its
own `ModelSource`); anywhere else the agent's steps fail and say why.

The output mode that works for a provider's model is remembered in the provider's settings
(`detectedOutputModes`: model name -> mode and why the stronger ones failed), where
`accord providers show` and the API show it and the next call starts from it.
"""

import time
import zlib
from typing import Any

from pydantic_ai.models import Model

from accord.domain.agent import IN_PROCESS_MODEL_PREFIX, Agent
from accord.domain.errors import ModelFailure
from accord.llm import (
    DETECTED_SETTING,
    OfflineModel,
    OutputMode,
    build_model,
    detected_mode,
    model_cost,
    named_model,
    provider_model_name,
    provider_output_modes,
)
from accord.storage.db import Database
from accord.storage.repositories.providers import ProviderRepository
from accord.team.attempt import AgentModel, ModelSource


def provider_models(db: Database) -> ModelSource:
    failed_modes: dict[tuple[str, str], dict[OutputMode, str]] = {}
    """(provider ID, model name) -> modes that failed in this process and why, until a mode
    works (which is then kept in the provider's settings, with these reasons)."""

    def model_for(agent: Agent) -> AgentModel:
        model: Model
        if agent.llm_provider_id is None and agent.model and ":" in agent.model:
            if agent.model.startswith(IN_PROCESS_MODEL_PREFIX):
                raise ModelFailure(
                    f"it runs on a Python model object "
                    f"({agent.model.removeprefix(IN_PROCESS_MODEL_PREFIX)}) that only the "
                    "process that defined its workflow has: run the workflow from that "
                    "script, or give the agent a provider or a model name",
                    details={"transient": False},
                )
            model = named_model(agent.model)  # a pydantic-ai name (`openai:gpt-4o-mini`)
            return AgentModel(model, cost_usd=model_cost(model))
        if agent.llm_provider_id is None:
            model = OfflineModel(seed=zlib.crc32(agent.id.encode()))
            return AgentModel(model, cost_usd=model_cost(model))
        with db.read_session() as session:
            providers = ProviderRepository(session)
            provider = providers.get(agent.llm_provider_id, user_id=agent.user_id)
            api_key = providers.api_key_for(provider.id, agent.user_id)
        model = build_model(provider, api_key=api_key, model_name=agent.model)
        name = provider_model_name(provider, agent.model)
        known = [detected_mode(provider.settings, name)]
        failed = failed_modes.setdefault((provider.id, name), {})

        def remember(mode: OutputMode, reason: str) -> None:
            reason = reason or "; ".join(f"{m}: {why}" for m, why in failed.items())
            failed.clear()
            if known[0] != mode:
                remember_output_mode(db, agent, model_name=name, mode=mode, reason=reason)
                known[0] = mode

        def note_failure(mode: OutputMode, reason: str) -> None:
            failed[mode] = reason

        modes = provider_output_modes(provider, agent.model)
        return AgentModel(
            model,
            cost_usd=model_cost(model),
            output_modes=[m for m in modes if m not in failed] or modes[-1:],
            remember_mode=remember,
            mode_failed=note_failure,
        )

    return model_for


def remember_output_mode(
    db: Database, agent: Agent, *, model_name: str, mode: OutputMode, reason: str
) -> None:
    """Keep the mode that worked for `model_name` on the agent's provider, unless it is
    already kept (a write only when something was learnt)."""
    assert agent.llm_provider_id is not None
    with db.session() as session:
        providers = ProviderRepository(session)
        provider = providers.get(agent.llm_provider_id, user_id=agent.user_id)
        detected: dict[str, Any] = dict(provider.settings.get(DETECTED_SETTING) or {})
        known = detected.get(model_name)
        if isinstance(known, dict) and known.get("mode") == mode:
            return
        detected[model_name] = {
            "mode": mode,
            "reason": reason or f"{mode} output worked on the first try",
            "detectedAt": round(time.time()),
        }
        providers.update(
            provider.id,
            user_id=agent.user_id,
            settings={**provider.settings, DETECTED_SETTING: detected},
        )
