"""HTTPS: `<SERVICE>_HTTP_TLS_CERTFILE`/`KEYFILE` make a service serve TLS only; `…_CA_CERTS` client certs."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from mhp.broker import free_port
from services.triage.settings import TriageSettings
from tests.tls.certs import CertificateAuthority, Issued

ROOT = Path(__file__).resolve().parents[2]


def test_the_tls_files_come_from_the_services_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert TriageSettings().uvicorn_tls() == {}
    monkeypatch.setenv("TRIAGE_HTTP_TLS_CERTFILE", str(tmp_path / "cert.pem"))
    monkeypatch.setenv("TRIAGE_HTTP_TLS_KEYFILE", str(tmp_path / "key.pem"))
    assert TriageSettings().uvicorn_tls() == {
        "ssl_certfile": str(tmp_path / "cert.pem"),
        "ssl_keyfile": str(tmp_path / "key.pem"),
    }
    monkeypatch.setenv("TRIAGE_HTTP_TLS_CA_CERTS", str(tmp_path / "clients.pem"))
    assert TriageSettings().uvicorn_tls() == {
        "ssl_certfile": str(tmp_path / "cert.pem"),
        "ssl_keyfile": str(tmp_path / "key.pem"),
        "ssl_ca_certs": str(tmp_path / "clients.pem"),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }


def test_a_certificate_without_its_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_HTTP_TLS_CERTFILE", str(tmp_path / "cert.pem"))
    with pytest.raises(ValidationError, match="set together"):
        TriageSettings()
    monkeypatch.setenv("TRIAGE_HTTP_TLS_CERTFILE", "")  # compose's unset variable: plain HTTP
    assert TriageSettings().uvicorn_tls() == {}


@contextmanager
def _triage_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.triage"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_live(url: str, client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise AssertionError(f"triage exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            return client.get(url)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise AssertionError(f"triage never served {url}:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def _trusting(ca: Path, client: Issued | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


@pytest.fixture
def triage_env(amqp_url: str, make_database_url: Callable[[str], str]) -> dict[str, str]:
    return {
        "TRIAGE_RABBITMQ_URL": amqp_url,
        "TRIAGE_DATABASE_URL": make_database_url("triage"),
        "TRIAGE_HTTP_PORT": str(free_port()),
        "TRIAGE_LOG_JSON": "false",
    }


@pytest.mark.integration
def test_a_service_serves_https_with_its_certificate_and_refuses_plain_http(
    triage_env: dict[str, str], tmp_path: Path
) -> None:
    ca = CertificateAuthority(tmp_path, "trusted")
    server = ca.issue("server")
    env = {
        **triage_env,
        "TRIAGE_HTTP_TLS_CERTFILE": str(server.cert),
        "TRIAGE_HTTP_TLS_KEYFILE": str(server.key),
    }
    port = env["TRIAGE_HTTP_PORT"]
    log = tmp_path / "triage.log"
    with _triage_process(env, log) as process, httpx.Client(verify=_trusting(ca.pem), timeout=10) as https:
        live = _wait_live(f"https://localhost:{port}/health/live", https, process, log)
        assert live.status_code == 200
        assert live.json() == {"status": "alive", "service": "triage"}
        with httpx.Client(timeout=10) as plain, pytest.raises(httpx.TransportError):
            plain.get(f"http://127.0.0.1:{port}/health/live")
        stranger = CertificateAuthority(tmp_path, "stranger")
        with (
            httpx.Client(verify=_trusting(stranger.pem), timeout=10) as doubting,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            doubting.get(f"https://localhost:{port}/health/live")


@pytest.mark.integration
def test_with_a_client_ca_a_service_serves_only_clients_presenting_its_certificates(
    triage_env: dict[str, str], tmp_path: Path
) -> None:
    ca = CertificateAuthority(tmp_path, "trusted")
    server = ca.issue("server")
    client = ca.issue("client", ("prometheus",), client=True)
    env = {
        **triage_env,
        "TRIAGE_HTTP_TLS_CERTFILE": str(server.cert),
        "TRIAGE_HTTP_TLS_KEYFILE": str(server.key),
        "TRIAGE_HTTP_TLS_CA_CERTS": str(ca.pem),
    }
    url = f"https://localhost:{env['TRIAGE_HTTP_PORT']}/health/live"
    log = tmp_path / "triage.log"
    with (
        _triage_process(env, log) as process,
        httpx.Client(verify=_trusting(ca.pem, client), timeout=10) as with_certificate,
    ):
        assert _wait_live(url, with_certificate, process, log).status_code == 200
        with (
            httpx.Client(verify=_trusting(ca.pem), timeout=10) as without,
            pytest.raises(httpx.TransportError),
        ):
            without.get(url)
