"""API tokens: the secret is shown once, on create; only its hash is kept."""

from fastapi import APIRouter, status

from accord.domain.agent import ApiToken
from accord.server.auth import TokenStore
from accord.server.deps import CurrentUser, SessionDep
from accord.server.schemas import ERROR_RESPONSES, TokenCreate, TokenCreated

router = APIRouter(prefix="/tokens", tags=["users"], responses=ERROR_RESPONSES)


@router.get("")
def list_tokens(user: CurrentUser, session: SessionDep) -> list[ApiToken]:
    return TokenStore(session).list_api_tokens(user_id=user.id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, user: CurrentUser, session: SessionDep) -> TokenCreated:
    ttl = None if body.expires_in_days is None else body.expires_in_days * 24 * 60 * 60
    issued = TokenStore(session).issue(user_id=user.id, name=body.name, ttl_seconds=ttl)
    return TokenCreated(**issued.token.model_dump(), token=issued.secret)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, user: CurrentUser, session: SessionDep) -> None:
    TokenStore(session).revoke(token_id, user_id=user.id)
