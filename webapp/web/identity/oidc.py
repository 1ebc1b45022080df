"""OpenID Connect adapter (authorization code flow with PKCE, state and nonce), with Authlib.

Configured by OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (environment variables or app
config); the provider is registered only when all three are set. Register both callback URLs
(/fi/identify/oidc/callback and /sv/identify/oidc/callback) with the identity provider.

The ID token is verified (signature with the issuer's JWKS, iss, aud, exp, nonce) and mapped to
a VerifiedPerson; the choice code never sees claims or tokens.
"""
from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import redirect, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from webapp.identity.person import IdentificationFailed, VerifiedPerson, normalise_hetu

PENDING_KEY = "oidc_pending"
PENDING_MAX_AGE = 600  # seconds a started identification may take
# Claim names used by Finnish identity brokers for the henkilötunnus, in order of preference.
HETU_CLAIMS = ("personal_identity_code", "national_identification_number", "hetu", "nationalIdentificationNumber")
MUNICIPALITY_CLAIMS = ("home_municipality_code", "kotikuntakuntanumero")


def map_claims(claims: dict[str, Any]) -> VerifiedPerson:
    """Verified ID-token claims → VerifiedPerson; raises IdentificationFailed without a valid code."""
    raw = next((claims[name] for name in HETU_CLAIMS if claims.get(name)), None)
    if not isinstance(raw, str):
        raise IdentificationFailed("no_hetu_claim")
    try:
        hetu = normalise_hetu(raw)
    except ValueError:
        raise IdentificationFailed("invalid_hetu_claim") from None
    muni = next((str(claims[name]) for name in MUNICIPALITY_CLAIMS if claims.get(name)), None)
    given = str(claims.get("given_name") or claims.get("first_name") or "").strip()
    family = str(claims.get("family_name") or claims.get("last_name") or "").strip()
    return VerifiedPerson(hetu=hetu, given_name=given, family_name=family,
                          home_municipality_code=muni.zfill(3) if muni else None)


class OidcProvider:
    name = "oidc"

    def __init__(self, issuer: str, client_id: str, client_secret: str,
                 scope: str = "openid profile personal_identity_code", http: Any = None,
                 acr_values: tuple[str, ...] = ()):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.http = http or requests
        # Assurance levels accepted (e.g. "http://ftn.ficora.fi/2017/loa3" for strong identification);
        # when set they are requested and the ID token's acr must be one of them.
        self.acr_values = tuple(acr_values)
        self._metadata: dict | None = None
        self._jwks: KeySet | None = None
        self._jwks_fetched_at = 0.0

    # --- network (mocked in tests) ----------------------------------------------------------
    def metadata(self) -> dict:
        if self._metadata is None:
            resp = self.http.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
            resp.raise_for_status()
            metadata = resp.json()
            # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
            if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                raise IdentificationFailed("issuer_mismatch")
            self._metadata = metadata
        return self._metadata

    def key_set(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            resp = self.http.get(self.metadata()["jwks_uri"], timeout=10)
            resp.raise_for_status()
            self._jwks = KeySet.import_key_set(resp.json())
            self._jwks_fetched_at = time.time()
        return self._jwks

    def _keys_may_have_rotated(self) -> bool:
        """Refetch the keys at most once a minute, so that forged tokens cannot make us hammer the IdP."""
        return time.time() - self._jwks_fetched_at > 60

    def _client(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, scope=self.scope, redirect_uri=redirect_uri,
                             code_challenge_method="S256")

    def exchange_code(self, code: str, pending: dict) -> dict:
        """The token endpoint call (authorization code + PKCE verifier)."""
        client = self._client(pending["redirect_uri"])
        return dict(client.fetch_token(self.metadata()["token_endpoint"], grant_type="authorization_code",
                                       code=code, code_verifier=pending["verifier"]))

    # --- the flow ---------------------------------------------------------------------------
    def start(self, return_to: str):  # noqa: ANN201
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_token(64)
        redirect_uri = url_for("identity.oidc_callback", _external=True)
        session[PENDING_KEY] = {"state": state, "nonce": nonce, "verifier": verifier,
                                "redirect_uri": redirect_uri, "at": time.time()}
        extra = {"acr_values": " ".join(self.acr_values)} if self.acr_values else {}
        url, _state = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier, **extra)
        return redirect(url)

    def complete(self, request) -> VerifiedPerson:  # noqa: ANN001
        pending = session.pop(PENDING_KEY, None)
        if not isinstance(pending, dict):
            raise IdentificationFailed("no_pending_identification")
        if time.time() - float(pending.get("at", 0)) > PENDING_MAX_AGE:
            raise IdentificationFailed("identification_expired")
        if request.args.get("error"):
            raise IdentificationFailed("provider_error")
        state = request.args.get("state") or ""
        if not hmac.compare_digest(state.encode(), str(pending["state"]).encode()):
            raise IdentificationFailed("state_mismatch")
        code = request.args.get("code")
        if not code:
            raise IdentificationFailed("no_code")
        try:
            token = self.exchange_code(code, pending)
        except Exception:  # noqa: BLE001  network or provider failure; never echo its text
            raise IdentificationFailed("token_exchange_failed") from None
        id_token = token.get("id_token")
        if not id_token:
            raise IdentificationFailed("no_id_token")
        return map_claims(self.verify_id_token(id_token, pending["nonce"]))

    def verify_id_token(self, id_token: str, nonce: str) -> dict:
        try:
            token = self._decode(id_token)
            rules: dict[str, jwt.ClaimsOption] = {
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id}, "exp": {"essential": True},
                "nonce": {"essential": True, "value": nonce}}
            if self.acr_values:
                rules["acr"] = {"essential": True, "values": list(self.acr_values)}
            # The rules are claim options only: none of them is named `now` or `leeway`.
            jwt.JWTClaimsRegistry(leeway=60, **rules).validate(token.claims)  # type: ignore[arg-type]
        except (JoseError, ValueError):
            raise IdentificationFailed("invalid_id_token") from None
        return dict(token.claims)

    def _decode(self, id_token: str):  # noqa: ANN202
        algorithms = ["RS256", "ES256", "PS256"]
        try:
            return jwt.decode(id_token, self.key_set(), algorithms=algorithms)
        except (JoseError, ValueError):
            if not self._keys_may_have_rotated():
                raise
            # The IdP may have rotated its signing keys since we fetched them: fetch once more.
            try:
                keys = self.key_set(refresh=True)
            except Exception:  # noqa: BLE001  the IdP is unreachable: the token stays unverified
                raise IdentificationFailed("invalid_id_token") from None
            return jwt.decode(id_token, keys, algorithms=algorithms)
