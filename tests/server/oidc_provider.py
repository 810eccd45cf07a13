"""A small OpenID Connect provider for tests: discovery, an authorization endpoint that signs
in whoever `person` names at once, a token endpoint that checks the client secret and PKCE,
and its signing keys. A real HTTP server on 127.0.0.1, so Accord talks to it as to any
provider."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Header, HTTPException
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "accord-tests"
CLIENT_SECRET = "s3cret-of-the-client"


@dataclass
class Provider:
    issuer: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    """The claims of whoever signs in next (email, email_verified, name)."""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize(
            client_id: str,
            redirect_uri: str,
            state: str,
            nonce: str,
            code_challenge: str,
            code_challenge_method: str,
            scope: str,
            response_type: str,
        ) -> RedirectResponse:
            assert client_id == CLIENT_ID and response_type == "code"
            assert code_challenge_method == "S256" and "openid" in scope.split()
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": nonce,
                "challenge": code_challenge,
                "redirect_uri": redirect_uri,
                "person": dict(self.person),
            }
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

        @app.post("/token")
        def token(
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            code_verifier: str = Form(),
            authorization: str = Header(""),
        ) -> dict[str, Any]:
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if authorization != f"Basic {expected}":
                raise HTTPException(401, "invalid_client")
            grant = self.codes.pop(code, None)
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if grant is None or grant["challenge"] != challenge:
                raise HTTPException(400, "invalid_grant")
            assert grant_type == "authorization_code" and redirect_uri == grant["redirect_uri"]
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "sub": grant["person"].get("email", "someone"),
                "iat": now,
                "exp": now + 300,
                "nonce": grant["nonce"],
                **grant["person"],
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
            return {"access_token": "at", "token_type": "Bearer", "id_token": id_token}

        return app
