"""API tokens: the secret is shown once, on create; only its hash is kept. Each has a scope
(read, run or admin) and may expire; revoking one refuses it at once and ends its open
event streams within a second."""

from fastapi import APIRouter, status

from accord.domain.agent import ApiToken
from accord.server.access import ManageAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES, TokenCreate, TokenCreated
from accord.storage.repositories.tokens import TokenRepository

router = APIRouter(prefix="/tokens", tags=["users"], responses=ERROR_RESPONSES)


@router.get("")
def list_tokens(access: ReadAccess, session: SessionDep) -> list[ApiToken]:
    return TokenRepository(session).list(user_id=access.user.id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, access: ManageAccess, session: SessionDep) -> TokenCreated:
    ttl = None if body.expires_in_days is None else body.expires_in_days * 24 * 60 * 60
    token, secret = TokenRepository(session).create(
        user_id=access.user.id, name=body.name, ttl_seconds=ttl, scope=body.scope
    )
    return TokenCreated(**token.model_dump(), token=secret)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, access: ManageAccess, session: SessionDep) -> None:
    TokenRepository(session).delete(token_id, user_id=access.user.id)
