"""Which model speaks for an agent: its provider's, through the LLM layer.

An agent without a provider (never given one, or its provider was deleted) works on the
built-in offline model, seeded by the agent's ID so that teammates do not answer alike.
"""

import zlib

from pydantic_ai.models import Model

from accord.domain.agent import Agent
from accord.llm import OfflineModel, build_model, model_cost
from accord.storage.db import Database
from accord.storage.repositories.providers import ProviderRepository
from accord.team.attempt import AgentModel, ModelSource


def provider_models(db: Database) -> ModelSource:
    def model_for(agent: Agent) -> AgentModel:
        model: Model
        if agent.llm_provider_id is None:
            model = OfflineModel(seed=zlib.crc32(agent.id.encode()))
        else:
            with db.session() as session:
                providers = ProviderRepository(session)
                provider = providers.get(agent.llm_provider_id, user_id=agent.user_id)
                api_key = providers.api_key_for(provider.id, agent.user_id)
            model = build_model(provider, api_key=api_key, model_name=agent.model)
        return AgentModel(model, cost_usd=model_cost(model))

    return model_for
