"""LLM providers: the API key is write-only; responses only say whether one is stored."""

from typing import Any

from fastapi import APIRouter, status

from accord.domain.agent import LlmProvider, ProviderCreate, ProviderUpdate
from accord.server.access import EditAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.providers import ProviderRepository

router = APIRouter(prefix="/providers", tags=["providers"], responses=ERROR_RESPONSES)


@router.get("")
def list_providers(access: ReadAccess, session: SessionDep) -> list[LlmProvider]:
    return ProviderRepository(session).list(user_id=access.owner_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_provider(body: ProviderCreate, access: EditAccess, session: SessionDep) -> LlmProvider:
    return ProviderRepository(session).create(user_id=access.owner_id, **dict(body))


@router.get("/{provider_id}")
def get_provider(provider_id: str, access: ReadAccess, session: SessionDep) -> LlmProvider:
    return ProviderRepository(session).get(provider_id, user_id=access.owner_id)


@router.patch("/{provider_id}")
def update_provider(
    provider_id: str, body: ProviderUpdate, access: EditAccess, session: SessionDep
) -> LlmProvider:
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    for required in ("name", "kind", "default_model", "price_overrides", "settings"):
        if changes.get(required, ...) is None:
            del changes[required]  # null for a required field means "unchanged"
    return ProviderRepository(session).update(provider_id, user_id=access.owner_id, **changes)


@router.delete("/{provider_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_provider(provider_id: str, access: EditAccess, session: SessionDep) -> None:
    ProviderRepository(session).delete(provider_id, user_id=access.owner_id)
