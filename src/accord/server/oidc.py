"""Optional sign-in through an OpenID Connect provider (Keycloak, Authentik, Google, Entra...).

Configured by `ACCORD_OIDC_ISSUER`, `ACCORD_OIDC_CLIENT_ID` and `ACCORD_OIDC_CLIENT_SECRET`;
the provider must allow the redirect URI `<server>/auth/oidc/callback`. The authorization
code flow with PKCE, through authlib's OAuth 2 client; the ID token's signature, issuer,
audience, expiry and nonce are checked with joserfc against the provider's published keys.

The provider says who the person is by their verified `email`; they sign in as the Accord
user with that email. Nobody gets in only because the provider knows them: an administrator
adds them first (`accord users create EMAIL --no-password`), unless
`ACCORD_OIDC_NEW_USERS=true` lets the provider's users in as new plain users.
"""

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from accord.domain.errors import Unauthorized

FLOW_COOKIE = "accord_oidc"
FLOW_TTL_S = 10 * 60
SCOPES = "openid email profile"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    new_users: bool = False
    """Let the provider's users in as new plain users (else an administrator adds them)."""


@dataclass(frozen=True)
class Flow:
    """What the browser keeps (in a short-lived cookie) between leaving for the provider
    and coming back: checked against the callback and the ID token."""

    state: str
    nonce: str
    code_verifier: str

    def cookie(self) -> str:
        return f"{self.state}.{self.nonce}.{self.code_verifier}"

    @classmethod
    def from_cookie(cls, value: str | None) -> "Flow":
        parts = (value or "").split(".")
        if len(parts) != 3:
            raise Unauthorized("the sign-in took too long or was started elsewhere; try again")
        return cls(*parts)


@dataclass(frozen=True)
class Identity:
    email: str
    name: str


class OidcClient:
    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once)."""
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url)
                response.raise_for_status()
                self._metadata = response.json()
        return self._metadata

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=SCOPES,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    async def start(self, redirect_uri: str) -> tuple[str, Flow]:
        """Where to send the browser, and the flow to remember."""
        flow = Flow(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
        )
        endpoint = (await self.metadata())["authorization_endpoint"]
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=flow.state, code_verifier=flow.code_verifier, nonce=flow.nonce
            )
        return url, flow

    async def finish(self, redirect_uri: str, flow: Flow, *, code: str, state: str) -> Identity:
        """Exchange the code and check the ID token: the person's verified email."""
        if not secrets.compare_digest(state, flow.state):
            raise Unauthorized("the sign-in's state does not match; start again")
        metadata = await self.metadata()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=flow.code_verifier
                )
                keys = (await client.get(metadata["jwks_uri"])).json()
        except Exception as exc:  # authlib's and httpx's errors alike: the provider refused
            raise Unauthorized(f"the identity provider refused the sign-in: {exc}") from exc
        if "id_token" not in token:
            raise Unauthorized("the identity provider sent no ID token (is `openid` allowed?)")
        try:
            decoded = jwt.decode(token["id_token"], KeySet.import_key_set(keys))
            JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": metadata.get("issuer", self.settings.issuer)},
                aud={"essential": True, "value": self.settings.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": flow.nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"the ID token is not valid: {exc}") from exc
        claims = decoded.claims
        email = claims.get("email")
        if not email or claims.get("email_verified") is False:
            raise Unauthorized(
                "the identity provider did not give a verified email (allow the `email` scope)"
            )
        return Identity(email=str(email), name=str(claims.get("name") or email.split("@")[0]))
