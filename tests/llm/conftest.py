"""Helpers for the LLM layer's tests: provider definitions pointing at the fake servers."""

from datetime import UTC, datetime
from typing import Any

from accord.domain.agent import LlmProvider, ModelPrice
from accord.domain.enums import ProviderKind


def make_provider(
    kind: ProviderKind,
    *,
    base_url: str | None = None,
    default_model: str = "gpt-4o-mini",
    price_overrides: dict[str, ModelPrice] | None = None,
    **settings: Any,
) -> LlmProvider:
    now = datetime.now(UTC)
    return LlmProvider(
        id="provider-1",
        user_id="user-1",
        name="Test provider",
        kind=kind,
        base_url=base_url,
        default_model=default_model,
        has_api_key=True,
        price_overrides=price_overrides or {},
        settings=settings,
        created_at=now,
        updated_at=now,
    )
