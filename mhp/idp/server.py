"""Running the demo provider: `EmbeddedProvider` (uvicorn in a background thread, for the tests and
`mhp up`) and `serve` (foreground, for `mhp idp` and `python -m mhp.idp`). Loopback only."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from pathlib import Path
from types import TracebackType

import uvicorn

from mhp.idp.app import DEFAULT_AUDIENCE, create_app, require_enabled
from mhp.idp.realm import DEFAULT_REALM, Realm

DEFAULT_PORT = 8009
DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0


class ProviderStartError(RuntimeError):
    pass


def _loopback_only(host: str) -> None:
    # Anyone who reaches the provider can sign in as anyone: it must never listen beyond this machine.
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the embedded identity provider binds to loopback only (got host {host!r})")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ProviderStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _audience(audience: str | None) -> str:
    return audience or os.environ.get("OIDC_AUDIENCE") or DEFAULT_AUDIENCE


class EmbeddedProvider:
    """The demo OIDC provider on `http://127.0.0.1:<port>` (port 0: a free one, see `.issuer`).

    Refuses to be built unless `enabled=True` or `MHP_EMBEDDED_IDP=enabled`.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        audience: str | None = None,
        realm: Path = DEFAULT_REALM,
        access_token_seconds: int = 900,
        enabled: bool = False,
    ) -> None:
        require_enabled(enabled)
        _loopback_only(host)
        self.state_dir = Path(state_dir)
        self.host = host
        self.port = port
        self.audience = _audience(audience)
        self.realm_path = realm
        self.access_token_seconds = access_token_seconds
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def issuer(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmbeddedProvider:
        if self._thread is not None:
            raise ProviderStartError("the provider is already running")
        sock = _bind(self.host, self.port)
        self.port = int(sock.getsockname()[1])  # the issuer needs the real port before the app exists
        try:
            app = create_app(
                self.state_dir,
                self.issuer,
                audience=self.audience,
                realm=Realm.load(self.realm_path),
                access_token_seconds=self.access_token_seconds,
                enabled=True,  # checked in __init__
            )
        except BaseException:
            sock.close()
            raise
        config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off", access_log=False)
        self._server = server = uvicorn.Server(config)

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # reported by start(), not lost in the thread
                self._failure = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"mhp-idp-{self.port}", daemon=True)
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        waited = 0.0
        while not self._server.started:
            self._thread.join(0.02)
            waited += 0.02
            if not self._thread.is_alive() or waited > START_TIMEOUT_SECONDS:
                self._thread = None
                raise ProviderStartError(f"the identity provider did not start: {self._failure!r}")

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._server, self._thread = None, None

    def __enter__(self) -> EmbeddedProvider:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def serve(
    state_dir: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    audience: str | None = None,
    realm: Path = DEFAULT_REALM,
    enabled: bool = False,
) -> None:
    """Run the provider in the foreground until interrupted (Ctrl-C or SIGTERM)."""
    require_enabled(enabled)
    _loopback_only(host)
    sock = _bind(host, port)
    actual = int(sock.getsockname()[1])
    issuer = f"http://{f'[{host}]' if ':' in host else host}:{actual}"
    app = create_app(
        Path(state_dir), issuer, audience=_audience(audience), realm=Realm.load(realm), enabled=True
    )
    print(f"demo identity provider (DEMO ONLY, loopback): OIDC_ISSUER={issuer}", flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")).run(sockets=[sock])
    finally:
        sock.close()
