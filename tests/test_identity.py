"""Identification: test persons, the test page, sessions, return paths and the OIDC adapter."""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func, select
from stdnum.fi import hetu as stdnum_hetu

from tests.choice_helpers import main_text, person, sign_in
from tests.conftest import csrf_from
from tests.session_helpers import age_sessions
from webapp.choice.rules import age_on, birthday_of_age
from webapp.core.clock import helsinki_today
from webapp.identity.person import IdentificationFailed, birth_date_of, mask_hetu, resident_key
from webapp.models import Choice, Resident, Unit
from webapp.seeding import test_persons as tp
from webapp.web import db
from webapp.web.identity.oidc import OidcProvider, map_claims
from webapp.web.identity.signin import is_local_path

# --- test persons ---------------------------------------------------------------------------


def test_test_persons_have_valid_test_range_codes():
    for p in tp.test_persons(helsinki_today()):
        assert stdnum_hetu.is_valid(p.hetu, allow_temporary=True)
        assert not stdnum_hetu.is_valid(p.hetu)  # 900-999: reserved test range, never a real person
        assert 900 <= int(p.hetu[7:10]) <= 999
        assert birth_date_of(p.hetu) == p.record.birth_date
        assert p.hetu[6] == ("-" if p.record.birth_date.year < 2000 else "A")


def test_the_young_test_person_turns_18_tomorrow_whatever_the_day():
    from datetime import date
    for today in (helsinki_today(), date(2027, 2, 27), date(2028, 2, 28), date(2026, 12, 31)):
        eetu = next(p for p in tp.test_persons(today) if p.slug == "eetu")
        tomorrow = today + timedelta(days=1)
        expected = tomorrow if (tomorrow.month, tomorrow.day) != (2, 29) else tomorrow + timedelta(days=1)
        assert birthday_of_age(eetu.record.birth_date, 18) == expected
        assert age_on(eetu.record.birth_date, today) == 17


def test_mask_hides_individual_number_and_check_character():
    p = person("aino")
    assert mask_hetu(p.hetu) == p.hetu[:8] + "***"
    assert p.hetu[8:] not in mask_hetu(p.hetu)


def test_seed_is_idempotent_and_keeps_counters_consistent(app):
    with app.app_context():
        sess = db.session()
        before = (sess.scalar(select(func.count()).select_from(Resident)),
                  sess.scalar(select(func.count()).select_from(Choice)),
                  sess.scalar(select(func.sum(Unit.listed_count))))
        tp.seed_test_persons(sess, resident_key_secret=app.config["RESIDENT_KEY_SECRET"])
        sess.commit()
        after = (sess.scalar(select(func.count()).select_from(Resident)),
                 sess.scalar(select(func.count()).select_from(Choice)),
                 sess.scalar(select(func.sum(Unit.listed_count))))
        assert before == after
        assert before[1] == 4  # Matti, Liisa and Pekka's two


def test_describe_never_prints_a_full_code():
    lines = "\n".join(tp.describe_test_persons())
    for p in tp.test_persons(helsinki_today()):
        assert p.masked in lines and p.hetu not in lines


def test_residents_are_keyed_by_hmac_not_the_code(app, client):
    sign_in(client, "aino")
    p = person("aino")
    expected = hmac.new(app.config["RESIDENT_KEY_SECRET"].encode(), p.hetu.encode(), hashlib.sha256).hexdigest()
    with app.app_context():
        resident = db.session().scalar(select(Resident).where(Resident.key == expected))
        assert resident is not None and resident.home_municipality_code == "186"
        assert resident_key(app.config["RESIDENT_KEY_SECRET"], p.hetu.lower()) == expected


# --- the test page ---------------------------------------------------------------------------

def test_test_page_lists_persons_masked(client):
    html = client.get("/sv/identify/test").get_data(as_text=True)
    for p in tp.test_persons(helsinki_today()):
        assert p.masked in html and p.hetu not in html
    assert "Testidentifiering" in html


def test_test_identification_is_refused_in_production_configuration(make_app):
    app = make_app("sqlite", TEST_IDENTIFICATION=False)
    client = app.test_client()
    assert client.get("/fi/identify/test").status_code == 404
    assert client.post("/fi/identify/test", data={"person": "aino"}).status_code in (400, 404)
    html = client.get("/fi/identify").get_data(as_text=True)
    assert "/fi/identify/test" not in html


def test_no_person_selected_is_a_clear_error(client):
    page = client.get("/fi/identify/test")
    response = client.post("/fi/identify/test", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Valitse testihenkilö." in html and 'class="error-summary"' in html and 'href="#person"' in html


def test_sign_in_shows_the_name_and_sign_out_needs_a_post_with_csrf(client):
    signed = sign_in(client, "astrid", "sv")
    assert signed.status_code == 303
    page = client.get("/sv/my-choices")
    html = page.get_data(as_text=True)
    assert "Inloggad: Astrid Lindqvist" in html
    assert client.get("/sv/identify/sign-out").status_code == 405
    assert client.post("/sv/identify/sign-out", data={}).status_code == 400  # no CSRF token
    assert client.get("/sv/my-choices").status_code == 200  # still signed in
    out = client.post("/sv/identify/sign-out", data={"csrf_token": csrf_from(html)})
    assert out.status_code == 303
    assert client.get("/sv/my-choices").status_code == 303  # identification needed again


def test_session_holds_no_henkilotunnus(client):
    sign_in(client, "aino")
    with client.session_transaction() as s:
        # Only a random token: the resident id and the name are in the server-side session row.
        assert set(s) <= {"resident_sid", "_permanent", "_flashes", "csrf_token", "return_to"}
        assert person("aino").hetu not in repr(dict(s)) and "Aino" not in repr(dict(s))


def test_sign_in_ends_after_the_maximum_lifetime_however_active(app, client):
    sign_in(client, "aino")
    age_sessions(app, "resident", ended=True)
    response = client.get("/fi/my-choices")
    assert response.status_code == 303 and response.headers["Location"].endswith("/fi/identify")


def test_idle_session_expires(app, client):
    sign_in(client, "aino")
    assert client.get("/fi/my-choices").status_code == 200
    age_sessions(app, "resident", seen_seconds_ago=app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    response = client.get("/fi/my-choices")
    assert response.status_code == 303 and response.headers["Location"].endswith("/fi/identify")
    assert "Istuntosi vanhentui" in main_text(client.get("/fi/identify"))
    with client.session_transaction() as s:
        assert "resident_sid" not in s


def test_activity_keeps_the_session_alive(app, client):
    sign_in(client, "aino")
    age_sessions(app, "resident", seen_seconds_ago=app.config["SESSION_IDLE_MINUTES"] * 60 - 30)
    assert client.get("/fi/my-choices").status_code == 200  # notes the visit: the idle time starts again
    age_sessions(app, "resident", seen_seconds_ago=0)
    assert client.get("/fi/my-choices").status_code == 200


@pytest.mark.parametrize("path, ok", [("/fi/choose/3", True), ("/sv/my-choices", True), ("//evil.example/x", False),
                                      ("https://evil.example/", False), ("/\\evil.example", False),
                                      ("javascript:alert(1)", False), ("fi/choose/3", False), ("", False),
                                      ("/fi/\nSet-Cookie", False)])
def test_return_path_must_be_local(path, ok):
    assert is_local_path(path) is ok


def test_population_register_miss_is_a_clear_403(app, client, monkeypatch):
    class Empty:
        def lookup(self, hetu):
            return None
    monkeypatch.setitem(app.extensions, "population_register", Empty())
    response = sign_in(client, "aino")
    assert response.status_code == 403
    assert "väestötietojärjestelmästä" in main_text(response)


# --- OIDC adapter (no network: metadata, keys and the token exchange are mocked) -------------

ISSUER = "https://idp.example"
CLIENT = "valinta-client"


@pytest.fixture
def rsa_key():
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


def make_provider(rsa_key, tokens: dict):
    provider = OidcProvider(ISSUER, CLIENT, "s3cret")
    provider._metadata = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                          "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks"}
    provider._jwks = KeySet([RSAKey.import_key(rsa_key.as_dict(private=False))])
    provider.exchange_code = lambda code, pending: tokens["by_code"][code](pending)
    return provider


def id_token(rsa_key, nonce, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "abc", "iat": now, "exp": now + 300, "nonce": nonce,
            "given_name": "Aino", "family_name": "Testinen", **claims}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, body, rsa_key)


def test_claims_mapping():
    code = person("aino").hetu
    for claim in ("personal_identity_code", "national_identification_number"):
        p = map_claims({claim: code.lower(), "given_name": "Aino", "family_name": "Testinen"})
        assert (p.hetu, p.display_name) == (code, "Aino Testinen")
        assert code not in repr(p)
    with pytest.raises(IdentificationFailed):
        map_claims({"given_name": "No code"})
    with pytest.raises(IdentificationFailed):
        map_claims({"personal_identity_code": "010190-123X"})  # bad check character


@pytest.fixture
def oidc_app(make_app, rsa_key):
    app = make_app("sqlite", OIDC_ISSUER=ISSUER, OIDC_CLIENT_ID=CLIENT, OIDC_CLIENT_SECRET="s3cret")
    tokens: dict = {"by_code": {}}
    app.extensions["identity_providers"]["oidc"] = make_provider(rsa_key, tokens)
    return app, tokens


def start_oidc(client):
    response = client.get("/fi/identify/oidc")
    assert response.status_code == 302
    url = urlparse(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.netloc == "idp.example" and query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["response_type"] == "code" and query["client_id"] == CLIENT
    assert query["redirect_uri"].endswith("/fi/identify/oidc/callback")
    return query


def test_oidc_flow_signs_in_with_pkce_state_and_nonce(oidc_app, rsa_key, caplog):
    caplog.set_level(logging.DEBUG)
    app, tokens = oidc_app
    client = app.test_client()
    assert "/fi/identify/oidc" in client.get("/fi/identify").get_data(as_text=True)
    query = start_oidc(client)
    seen = {}

    def exchange(pending):
        seen.update(pending)
        return {"id_token": id_token(rsa_key, query["nonce"], personal_identity_code=person("aino").hetu)}
    tokens["by_code"]["good"] = exchange
    response = client.get(f"/fi/identify/oidc/callback?code=good&state={query['state']}")
    assert response.status_code == 303
    assert seen["verifier"] and seen["nonce"] == query["nonce"]
    assert "Kirjautuneena: Aino Testinen" in client.get("/fi/my-choices").get_data(as_text=True)
    assert person("aino").hetu not in caplog.text


def test_oidc_state_mismatch_is_refused(oidc_app, rsa_key):
    app, tokens = oidc_app
    client = app.test_client()
    query = start_oidc(client)
    tokens["by_code"]["good"] = lambda pending: {
        "id_token": id_token(rsa_key, query["nonce"], personal_identity_code=person("aino").hetu)}
    response = client.get("/fi/identify/oidc/callback?code=good&state=forged")
    assert response.status_code == 400
    assert "Tunnistautuminen ei onnistunut" in main_text(response)
    assert client.get("/fi/my-choices").status_code == 303  # not signed in
    # The started identification is used up: the right state afterwards does not work either.
    assert client.get(f"/fi/identify/oidc/callback?code=good&state={query['state']}").status_code == 400


def test_oidc_nonce_mismatch_and_foreign_audience_are_refused(oidc_app, rsa_key):
    app, tokens = oidc_app
    for bad in ({"nonce": "replayed"}, {"aud": "someone-else"}, {"iss": "https://evil.example"}):
        client = app.test_client()
        query = start_oidc(client)
        claims = {"personal_identity_code": person("aino").hetu, **bad}
        nonce = claims.pop("nonce", query["nonce"])
        tokens["by_code"]["c"] = lambda pending, n=nonce, c=claims: {"id_token": id_token(rsa_key, n, **c)}
        response = client.get(f"/fi/identify/oidc/callback?code=c&state={query['state']}")
        assert response.status_code == 400, bad
        assert client.get("/fi/my-choices").status_code == 303


def test_oidc_token_signed_with_another_key_is_refused(oidc_app):
    app, tokens = oidc_app
    client = app.test_client()
    query = start_oidc(client)
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    tokens["by_code"]["c"] = lambda pending: {
        "id_token": id_token(other, query["nonce"], personal_identity_code=person("aino").hetu)}
    assert client.get(f"/fi/identify/oidc/callback?code=c&state={query['state']}").status_code == 400


def test_oidc_not_registered_without_configuration(client):
    assert client.get("/fi/identify/oidc").status_code == 404
    assert client.get("/fi/identify/oidc/callback?code=x&state=y").status_code == 404


def test_without_return_path_the_resident_lands_in_the_register_language(client):
    assert sign_in(client, "astrid", "fi").headers["Location"].endswith("/sv/my-choices")
    assert sign_in(client, "aino", "sv").headers["Location"].endswith("/fi/my-choices")


def test_no_population_register_is_a_clear_503(app, client, monkeypatch):
    monkeypatch.delitem(app.extensions, "population_register")
    response = sign_in(client, "aino")
    assert response.status_code == 503
    assert "Tunnistautuminen ei ole juuri nyt käytettävissä" in main_text(response)


class FakeHttp:
    """Answers the discovery document and the key set, counting the key-set fetches."""

    def __init__(self, metadata: dict, jwks: dict):
        self.metadata, self.jwks, self.jwks_fetches = metadata, jwks, 0

    def get(self, url, timeout=None):
        class Response:
            def __init__(self, body):
                self.body = body

            def raise_for_status(self):
                return None

            def json(self):
                return self.body
        if url.endswith("/jwks"):
            self.jwks_fetches += 1
            return Response(self.jwks)
        return Response(self.metadata)


METADATA = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize", "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks"}


def test_oidc_fetches_the_keys_again_when_the_idp_rotated_them(rsa_key):
    old_key = RSAKey.generate_key(2048, parameters={"kid": "old", "alg": "RS256", "use": "sig"})
    http = FakeHttp(METADATA, {"keys": [old_key.as_dict(private=False)]})
    provider = OidcProvider(ISSUER, CLIENT, "s3cret", http=http)
    provider.key_set()
    provider._jwks_fetched_at -= 120  # the cached keys are over a minute old
    http.jwks = {"keys": [rsa_key.as_dict(private=False)]}  # the IdP now signs with k1
    claims = provider.verify_id_token(id_token(rsa_key, "n1"), "n1")
    assert claims["given_name"] == "Aino" and http.jwks_fetches == 2


def test_oidc_does_not_refetch_keys_more_than_once_a_minute(rsa_key):
    other = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
    http = FakeHttp(METADATA, {"keys": [rsa_key.as_dict(private=False)]})
    provider = OidcProvider(ISSUER, CLIENT, "s3cret", http=http)
    for _ in range(3):
        with pytest.raises(IdentificationFailed):
            provider.verify_id_token(id_token(other, "n1"), "n1")  # forged: signed with another key
    assert http.jwks_fetches == 1


def test_oidc_discovery_document_for_another_issuer_is_refused():
    provider = OidcProvider(ISSUER, CLIENT, "s3cret", http=FakeHttp({**METADATA, "issuer": "https://evil.example"},
                                                                       {"keys": []}))
    with pytest.raises(IdentificationFailed):
        provider.metadata()


@pytest.mark.parametrize("acr, accepted", [("http://ftn.ficora.fi/2017/loa3", True),
                                           ("http://ftn.ficora.fi/2017/loa2", False), (None, False)])
def test_oidc_requires_the_configured_assurance_level(rsa_key, acr, accepted):
    provider = OidcProvider(ISSUER, CLIENT, "s3cret", acr_values=("http://ftn.ficora.fi/2017/loa3",),
                            http=FakeHttp(METADATA, {"keys": [rsa_key.as_dict(private=False)]}))
    claims = {"acr": acr} if acr else {}
    token = id_token(rsa_key, "n1", **claims)
    if accepted:
        assert provider.verify_id_token(token, "n1")["acr"] == acr
    else:
        with pytest.raises(IdentificationFailed):
            provider.verify_id_token(token, "n1")
