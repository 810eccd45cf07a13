"""LLM providers: model endpoints with their API keys, encrypted at rest.

The key goes in through `create`/`update` and comes out only through `api_key_for`, which the
llm layer calls when it builds a model; `LlmProvider` says whether a key is set, never what.
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.agent import LlmProvider, ModelPrice, check_provider, same_name
from accord.domain.enums import ProviderKind
from accord.domain.errors import Conflict, InvalidInput, NotFound
from accord.domain.workflow_file import OFFLINE_PROVIDER
from accord.storage.repositories._convert import UNSET, Unset, to_datetime
from accord.storage.repositories._names import check_name_free
from accord.storage.secrets import decrypt_secret, encrypt_secret
from accord.storage.tables import agents, epoch_now, llm_providers, new_id


def _provider(row: Row[Any]) -> LlmProvider:
    return LlmProvider(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        kind=ProviderKind(row.kind),
        base_url=row.base_url,
        default_model=row.default_model,
        has_api_key=row.encrypted_api_key is not None,
        price_overrides=row.price_overrides or {},
        settings=row.settings or {},
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def _prices(prices: Mapping[str, ModelPrice]) -> dict[str, Any]:
    return {model: ModelPrice.model_validate(p).to_json_dict() for model, p in prices.items()}


class ProviderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        user_id: str,
        name: str,
        kind: ProviderKind,
        default_model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        price_overrides: Mapping[str, ModelPrice] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> LlmProvider:
        """Raise Conflict if the user already has a provider of that name (ignoring case), and
        InvalidInput if the provider could not work (see `check_provider`)."""
        self._check_name_free(name, user_id)
        check_provider(ProviderKind(kind), base_url, dict(settings or {}))
        now = epoch_now()
        row = self.session.execute(
            insert(llm_providers)
            .values(
                id=new_id(),
                user_id=user_id,
                name=name,
                kind=ProviderKind(kind).value,
                base_url=base_url,
                default_model=default_model,
                encrypted_api_key=encrypt_secret(api_key) if api_key else None,
                price_overrides=_prices(price_overrides or {}),
                settings=dict(settings or {}),
                created_at=now,
                updated_at=now,
            )
            .returning(llm_providers)
        ).one()
        return _provider(row)

    def get(self, provider_id: str, *, user_id: str) -> LlmProvider:
        return _provider(self._row(provider_id, user_id))

    def list(self, *, user_id: str) -> builtins.list[LlmProvider]:
        rows = self.session.execute(
            select(llm_providers)
            .where(llm_providers.c.user_id == user_id)
            .order_by(llm_providers.c.created_at, llm_providers.c.name, llm_providers.c.id)
        )
        return [_provider(r) for r in rows]

    def update(
        self,
        provider_id: str,
        *,
        user_id: str,
        name: str | Unset = UNSET,
        kind: ProviderKind | Unset = UNSET,
        default_model: str | Unset = UNSET,
        base_url: str | None | Unset = UNSET,
        api_key: str | None | Unset = UNSET,
        price_overrides: Mapping[str, ModelPrice] | Unset = UNSET,
        settings: Mapping[str, Any] | Unset = UNSET,
    ) -> LlmProvider:
        """Change the given fields; `api_key=None` removes the stored key. A new name must be
        free, and a change of kind, URL or settings must leave a provider that can work."""
        current = _provider(self._row(provider_id, user_id))
        if isinstance(name, str) and not same_name(name, current.name):
            self._check_name_free(name, user_id, own_id=provider_id)
        if not all(isinstance(v, Unset) for v in (kind, base_url, settings)):
            check_provider(
                current.kind if isinstance(kind, Unset) else ProviderKind(kind),
                current.base_url if isinstance(base_url, Unset) else base_url,
                current.settings if isinstance(settings, Unset) else dict(settings),
            )
        changes: dict[str, Any] = {
            key: value
            for key, value in {
                "name": name,
                "default_model": default_model,
                "base_url": base_url,
            }.items()
            if not isinstance(value, Unset)
        }
        if not isinstance(kind, Unset):
            changes["kind"] = ProviderKind(kind).value
        if not isinstance(api_key, Unset):
            changes["encrypted_api_key"] = encrypt_secret(api_key) if api_key else None
        if not isinstance(price_overrides, Unset):
            changes["price_overrides"] = _prices(price_overrides)
        if not isinstance(settings, Unset):
            changes["settings"] = dict(settings)
        row = self.session.execute(
            update(llm_providers)
            .where(llm_providers.c.id == provider_id, llm_providers.c.user_id == user_id)
            .values(**changes, updated_at=epoch_now())
            .returning(llm_providers)
        ).one_or_none()
        if row is None:
            raise NotFound("llm provider", provider_id)
        return _provider(row)

    def delete(self, provider_id: str, *, user_id: str) -> None:
        """Delete a provider no agent speaks through; otherwise say which agents do (their
        foreign key would quietly move them to the offline model)."""
        self._row(provider_id, user_id)
        users = self.session.scalars(
            select(agents.c.name)
            .where(agents.c.user_id == user_id, agents.c.llm_provider_id == provider_id)
            .order_by(agents.c.name)
        ).all()
        if users:
            raise Conflict(
                f"llm provider {provider_id!r} is used by agent(s) {', '.join(users)}; move them "
                "to another provider (or delete them) first",
                details={"id": provider_id, "agents": list(users)},
            )
        self.session.execute(delete(llm_providers).where(llm_providers.c.id == provider_id))

    def api_key_for(self, provider_id: str, user_id: str) -> str | None:
        """The decrypted API key, for the llm layer only: never log it or send it to a client."""
        encrypted = self._row(provider_id, user_id).encrypted_api_key
        return None if encrypted is None else decrypt_secret(encrypted)

    def _check_name_free(self, name: str, user_id: str, *, own_id: str | None = None) -> None:
        if same_name(name, OFFLINE_PROVIDER):
            raise InvalidInput.of(
                "name",
                f"{OFFLINE_PROVIDER!r} names the built-in offline model in workflow files "
                f"(`provider: {OFFLINE_PROVIDER}`), so a provider of yours cannot be called that",
                "pick another name, e.g. 'offline (slow)'",
            )
        check_name_free(
            self.session,
            select(llm_providers.c.id, llm_providers.c.name).where(
                llm_providers.c.user_id == user_id
            ),
            kind="provider",
            name=name,
            own_id=own_id,
        )

    def _row(self, provider_id: str, user_id: str) -> Row[Any]:
        row = self.session.execute(
            select(llm_providers).where(
                llm_providers.c.id == provider_id, llm_providers.c.user_id == user_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound("llm provider", provider_id)
        return row
