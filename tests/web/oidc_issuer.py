"""A small OpenID Connect issuer of our own, served on loopback by a real HTTP server thread, for the single
sign-on tests.

It answers discovery (``/.well-known/openid-configuration``), its key set (``/jwks``), the authorization
endpoint (``/authorize``: signs in whoever ``claims`` describes at once and sends the browser back with a
one-time code) and the token endpoint (``/token``: client secret by HTTP Basic, the code once, the same
redirect URI, the PKCE S256 verifier; answers an RS256 ID token signed with a key it generated). A test
makes it misbehave through its attributes: ``claims`` (what the ID token says about the person),
``audience``, ``issuer`` (the ``iss`` it writes), ``lifetime`` (seconds until ``exp``; negative: already
expired), ``signing_key`` (another key than the published one) and ``replay`` (an earlier ID token sent
again instead of a fresh one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "issuer-key-1"


def new_key() -> RSAKey:
    """A fresh 2048-bit RSA signing key named ``KEY_ID`` (so a stranger's key claims to be the issuer's)."""
    return RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})


class LocalIssuer:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = new_key()
        self.signing_key = self.key
        self.claims: dict[str, Any] = {}
        self.audience: str | list[str] = client_id
        self.lifetime = 300
        self.replay: str | None = None
        self.issued: list[str] = []
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests = 0
        self._codes: dict[str, dict[str, Any]] = {}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    self._json(200, issuer.discovery())
                elif parts.path == "/jwks":
                    self._json(200, {"keys": [issuer.key.as_dict(private=False)]})
                elif parts.path == "/authorize":
                    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
                    status, location = issuer.authorize(query)
                    self._reply(status, b"", {"Location": location} if location else {})
                else:
                    self._reply(404, b"not here", {})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if urlsplit(self.path).path != "/token":
                    self._reply(404, b"not here", {})
                    return
                form = {name: values[0] for name, values in parse_qs(body).items()}
                status, answer = issuer.token(form, self.headers.get("Authorization", ""))
                self._json(status, answer)

            def _json(self, status: int, value: object) -> None:
                self._reply(status, json.dumps(value).encode(), {"Content-Type": "application/json",
                                                                 "Cache-Control": "no-store"})

            def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.issuer = self.url

    def discovery(self) -> dict[str, Any]:
        """The discovery document (OpenID Connect Discovery 1.0 §3)."""
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"]}

    def authorize(self, query: dict[str, str]) -> tuple[int, str | None]:
        """The person is signed in at once: (302, the redirect URI with a code and the state), or (400, None)
        for a request that is not an authorization code request of our client with PKCE S256."""
        self.authorize_requests.append(query)
        wanted = ("response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge")
        if (any(not query.get(name) for name in wanted) or query["response_type"] != "code"
                or query["client_id"] != self.client_id or query.get("code_challenge_method") != "S256"
                or "openid" not in query.get("scope", "").split()):
            return 400, None
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"redirect_uri": query["redirect_uri"], "challenge": query["code_challenge"],
                             "nonce": query["nonce"]}
        return 302, f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """Redeem a code (RFC 6749 §4.1.3, RFC 7636 §4.6): (200, tokens) or (400/401, an OAuth error)."""
        self.token_requests += 1
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if not secrets.compare_digest(authorization, f"Basic {expected}"):
            return 401, {"error": "invalid_client"}
        grant = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (form.get("grant_type") != "authorization_code" or grant is None
                or form.get("redirect_uri") != grant["redirect_uri"] or challenge != grant["challenge"]):
            return 400, {"error": "invalid_grant"}
        id_token = self.replay or self.id_token(grant["nonce"])
        self.issued.append(id_token)
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                     "id_token": id_token}

    def id_token(self, nonce: str) -> str:
        """An ID token (OpenID Connect Core 1.0 §2) about ``claims``, signed with ``signing_key``."""
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "person-1", "aud": self.audience, "iat": now,
                  "exp": now + self.lifetime, "nonce": nonce, **self.claims}
        return jwt.encode({"alg": "RS256", "kid": self.signing_key.kid}, claims, self.signing_key)


@contextmanager
def issuing(client_id: str, client_secret: str) -> Iterator[LocalIssuer]:
    """A ``LocalIssuer`` for one client, serving on a free loopback port until the block ends."""
    issuer = LocalIssuer(client_id, client_secret)
    thread = threading.Thread(target=issuer.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        issuer.httpd.shutdown()
        issuer.httpd.server_close()
