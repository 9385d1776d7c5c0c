"""The embedded demo provider is a real OIDC provider: discovery, PKCE, single-use codes, exact redirect
URIs, signed client credentials with single-use assertions, and it never starts unless enabled."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from mhp.cli import app as cli
from mhp.idp.app import ProviderNotEnabled
from mhp.idp.client import CLI_CLIENT_ID, CLI_REDIRECT_URI, DEFAULT_SCOPE, _CodeFlow, client_assertion
from mhp.idp.keys import generate_key, private_pem
from mhp.idp.server import EmbeddedProvider
from tests.support.identity import MHP, Tokens, system_of

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _discovery(issuer: str) -> dict[str, object]:
    return dict(httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json())


def _code(http: httpx.Client, issuer: str, flow: _CodeFlow) -> str:
    doc = _discovery(issuer)
    action, fields = flow.login(http.get(str(doc["authorization_endpoint"]), params=flow.authorize_params()))
    return flow.code(http.post(action, data=fields))


def test_discovery_names_pkce_and_signed_client_credentials(tokens: Tokens) -> None:
    doc = _discovery(tokens.issuer)
    assert doc["issuer"] == tokens.issuer
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]  # type: ignore[operator]


def test_a_code_is_bound_to_its_verifier_and_used_once(tokens: Tokens) -> None:
    token_endpoint = str(_discovery(tokens.issuer)["token_endpoint"])
    with httpx.Client(timeout=10) as http:
        flow = _CodeFlow.new(MHP, CLI_CLIENT_ID, CLI_REDIRECT_URI, DEFAULT_SCOPE)
        code = _code(http, tokens.issuer, flow)
        wrong = http.post(token_endpoint, data={**flow.token_form(code), "code_verifier": "x" * 43})
        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")

        flow = _CodeFlow.new(MHP, CLI_CLIENT_ID, CLI_REDIRECT_URI, DEFAULT_SCOPE)
        code = _code(http, tokens.issuer, flow)
        first = http.post(token_endpoint, data=flow.token_form(code))
        assert first.status_code == 200
        claims = jwt.decode(first.json()["access_token"], options={"verify_signature": False})
        assert (claims["sub"], claims["aud"], claims["iss"]) == (MHP, "mhp-platform", tokens.issuer)
        again = http.post(token_endpoint, data=flow.token_form(code))
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_an_unregistered_redirect_is_refused_without_redirecting(tokens: Tokens) -> None:
    flow = _CodeFlow.new(MHP, CLI_CLIENT_ID, "https://evil.example/callback", DEFAULT_SCOPE)
    doc = _discovery(tokens.issuer)
    page = httpx.get(str(doc["authorization_endpoint"]), params=flow.authorize_params(), timeout=10)
    assert page.status_code == 400
    assert "location" not in page.headers


def test_a_sign_in_without_pkce_is_refused(tokens: Tokens) -> None:
    flow = _CodeFlow.new(MHP, CLI_CLIENT_ID, CLI_REDIRECT_URI, DEFAULT_SCOPE)
    params = {k: v for k, v in flow.authorize_params().items() if not k.startswith("code_challenge")}
    doc = _discovery(tokens.issuer)
    answer = httpx.get(str(doc["authorization_endpoint"]), params=params, timeout=10)
    assert "error=invalid_request" in answer.headers.get("location", "") or answer.status_code == 400


def test_a_practice_system_proves_itself_with_its_own_key_once(tokens: Tokens, tmp_path: Path) -> None:
    token_endpoint = str(_discovery(tokens.issuer)["token_endpoint"])
    client_id = system_of("Y01234")
    own_key = tokens.state_dir / "clients" / f"{client_id}.pem"
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_assertion_type": JWT_BEARER}
    assertion = client_assertion(token_endpoint, client_id, own_key)
    granted = httpx.post(token_endpoint, data={**form, "client_assertion": assertion}, timeout=10)
    assert granted.status_code == 200
    claims = jwt.decode(granted.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == client_id
    assert "selected_roleid" not in claims
    replayed = httpx.post(token_endpoint, data={**form, "client_assertion": assertion}, timeout=10)
    assert (replayed.status_code, replayed.json()["error"]) == (401, "invalid_client")

    other_key = tmp_path / "other.pem"
    other_key.write_bytes(private_pem(generate_key()))
    forged = client_assertion(token_endpoint, client_id, other_key)
    refused = httpx.post(token_endpoint, data={**form, "client_assertion": forged}, timeout=10)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_the_provider_refuses_to_start_unless_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MHP_EMBEDDED_IDP", raising=False)
    with pytest.raises(ProviderNotEnabled):
        EmbeddedProvider(tmp_path, port=0)
    with pytest.raises(Exception, match="loopback"):
        EmbeddedProvider(tmp_path, host="0.0.0.0", port=0, enabled=True)  # noqa: S104


def test_mhp_token_prints_a_token_for_the_role_and_organisation(tokens: Tokens) -> None:
    runner = CliRunner()
    issuer = ["--issuer", tokens.issuer]
    state = ["--state-dir", str(tokens.state_dir)]
    result = runner.invoke(cli, ["token", "--role", "pcn_manager", "--org", "U00456", *issuer])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    (role,) = claims["nhsid_nrbac_roles"]
    assert (claims["sub"], role["org_code"]) == ("manager.u00456", "U00456")
    system = runner.invoke(
        cli,
        ["token", "--role", "practice_system", "--org", "Y01235", *issuer, *state],
    )
    assert system.exit_code == 0, system.output
    assert jwt.decode(system.stdout.strip(), options={"verify_signature": False})["sub"] == system_of(
        "Y01235"
    )
    unknown = runner.invoke(cli, ["token", "--role", "mhp", "--org", "U09999", "--issuer", tokens.issuer])
    assert unknown.exit_code != 0
