"""Getting a RabbitMQ to talk to, on any machine: a given URL, a container, or a private local node.

Used by `mhp up` and by the test fixtures, in the order the project promises:
`RABBITMQ_URL` → a RabbitMQ container when a Docker engine answers → a `rabbitmq-server` already
listening on 127.0.0.1:5672 → a private `rabbitmq-server` node started here, with its own name, ports and
data directory. Throw-away vhosts (one per test) are made with `rabbitmqctl` where we run the node.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

RABBITMQ_LIB = Path("/usr/lib/rabbitmq/bin")
"""Debian's real scripts; its /usr/sbin wrappers insist on running as user `rabbitmq`."""


class VhostAdmin(Protocol):
    """What a broker we run (or can administer) offers: throw-away vhosts for tests and benchmarks."""

    def add_vhost(self, vhost: str) -> None: ...

    def delete_vhost(self, vhost: str) -> None: ...

    def allow_impersonation(self) -> None:
        """Tag this broker's login user `impersonator`: it may then set any AMQP user_id (tests only)."""
        ...


class NoBrokerAvailable(RuntimeError):
    """No way to get a RabbitMQ here; the message says how to get one."""


HOW_TO_GET_A_BROKER = (
    "No RabbitMQ available. Either set RABBITMQ_URL=amqp://user:pass@host:5672/, start a Docker engine, "
    "or install RabbitMQ locally (Debian/Ubuntu: `sudo apt-get install -y rabbitmq-server`)."
)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def docker_answers() -> bool:
    """testcontainers fails when the container object is built if no engine runs: probe first."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))


def rabbitmq_installed() -> bool:
    return (RABBITMQ_LIB / "rabbitmq-server").exists() or shutil.which("rabbitmq-server") is not None


PLUGINS = ("rabbitmq_federation",)


@dataclass
class LocalNode:
    """A private `rabbitmq-server` node: own node name, AMQP and distribution ports, data directory."""

    base_dir: Path
    name: str = field(default_factory=lambda: f"mhp-{uuid.uuid4().hex[:6]}@localhost")
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    config_file: Path | None = None
    """A rabbitmq.conf to start with (tests of the deploy configuration); else none at all."""
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            # The Erlang cookie lives in $HOME: keep it with the node so rabbitmqctl can reach it.
            "HOME": str(self.base_dir),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base_dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base_dir / "log"),
            "RABBITMQ_PID_FILE": str(self.base_dir / "node.pid"),
            # Paths that do not exist: no config file, so nothing of the system node leaks in; the
            # plugins are ours (`start` writes the file).
            "RABBITMQ_CONFIG_FILE": str(self.config_file or self.base_dir / "no-config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base_dir / "enabled_plugins"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base_dir / "no-advanced.config"),
        }

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(RABBITMQ_LIB / "rabbitmqctl"), "-n", self.name, "-q", *args],
            env=self._env(),
            check=check,
            capture_output=True,
            timeout=120,
        )

    def start(self, timeout: float = 90.0) -> None:
        if not (RABBITMQ_LIB / "rabbitmq-server").exists():
            raise NoBrokerAvailable(HOW_TO_GET_A_BROKER)
        env = self._env()
        # Federation carries practice systems' events from their ingress vhosts (mhp.definitions).
        (self.base_dir / "enabled_plugins").write_text(f"[{','.join(PLUGINS)}].\n")
        log = (self.base_dir / "server.log").open("ab")
        self._process = subprocess.Popen(
            [str(RABBITMQ_LIB / "rabbitmq-server")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.base_dir,
            start_new_session=True,  # a Ctrl-C in the terminal is for us, not for the node
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise NoBrokerAvailable(f"rabbitmq-server exited early; see {self.base_dir / 'server.log'}")
            if self.ctl("ping", check=False).returncode == 0:
                self.ctl("await_startup")
                return
            time.sleep(0.5)
        self.stop()
        raise NoBrokerAvailable(f"rabbitmq-server did not start in {timeout:.0f}s")

    def stop(self) -> None:
        self.ctl("stop", check=False)
        if self._process is not None:
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def add_vhost(self, vhost: str) -> None:
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")

    def delete_vhost(self, vhost: str) -> None:
        self.ctl("delete_vhost", vhost, check=False)

    def allow_impersonation(self) -> None:
        self.ctl("set_user_tags", "guest", "administrator", "impersonator")


class SystemNode:
    """The machine's own RabbitMQ on 127.0.0.1:5672, driven through the system `rabbitmqctl`."""

    url = "amqp://guest:guest@127.0.0.1:5672/"

    def add_vhost(self, vhost: str) -> None:
        for args in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)

    def delete_vhost(self, vhost: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)

    def allow_impersonation(self) -> None:
        command = ["rabbitmqctl", "-q", "set_user_tags", "guest", "administrator", "impersonator"]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    @staticmethod
    def manageable() -> bool:
        """True if we can make vhosts on it (rabbitmqctl is here and may talk to the node)."""
        if shutil.which("rabbitmqctl") is None:
            return False
        result = subprocess.run(["rabbitmqctl", "-q", "ping"], capture_output=True, timeout=30, check=False)
        return result.returncode == 0


class ContainerNode:
    """A RabbitMQ container started through testcontainers (where a Docker engine answers)."""

    def __init__(self) -> None:
        from testcontainers.rabbitmq import RabbitMqContainer

        self._container = RabbitMqContainer("rabbitmq:3.13-management")
        self._container.start()
        host = self._container.get_container_host_ip()
        port = self._container.get_exposed_port(5672)
        self.url = f"amqp://guest:guest@{host}:{port}/"

    def _exec(self, *args: str) -> None:
        self._container.exec(["rabbitmqctl", "-q", *args])

    def add_vhost(self, vhost: str) -> None:
        self._exec("add_vhost", vhost)
        self._exec("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")

    def delete_vhost(self, vhost: str) -> None:
        self._exec("delete_vhost", vhost)

    def allow_impersonation(self) -> None:
        self._exec("set_user_tags", "guest", "administrator", "impersonator")

    def stop(self) -> None:
        self._container.stop()


@contextlib.contextmanager
def acquire_broker(
    run_dir: Path, *, node_name: str | None = None, port: int | None = None
) -> Iterator[tuple[str, VhostAdmin | None]]:
    """Yield (amqp_url, node) by the project's order; node can make vhosts, or is None for a given URL.

    A private node keeps its data in `run_dir/rabbitmq`; give it a fixed `node_name` to reuse that data
    (and any messages still queued) across runs.
    """
    env_url = os.environ.get("RABBITMQ_URL")
    if env_url:
        yield env_url, None
        return
    if docker_answers():
        container = ContainerNode()
        try:
            yield container.url, container
        finally:
            container.stop()
        return
    if port_open("127.0.0.1", 5672) and SystemNode.manageable():
        # Only a local broker we can make vhosts on: otherwise tests could not be kept apart.
        system = SystemNode()
        yield system.url, system
        return
    if not rabbitmq_installed():
        raise NoBrokerAvailable(HOW_TO_GET_A_BROKER)
    node = LocalNode(run_dir / "rabbitmq")
    if node_name is not None:
        node.name = node_name
    if port is not None and not port_open("127.0.0.1", port):
        node.port = port
    node.start()
    try:
        yield node.url, node
    finally:
        node.stop()


class ManagementApi:
    """Vhosts on a broker known only by URL, through its management plugin's HTTP API (port 15672)."""

    def __init__(self, amqp_url: str, *, port: int = 15672) -> None:
        parts = urlsplit(amqp_url)
        self._base = f"http://{parts.hostname}:{port}/api"
        self._auth = (parts.username or "guest", parts.password or "guest")
        self._user = self._auth[0]

    def add_vhost(self, vhost: str) -> None:
        import httpx

        name = quote(vhost, safe="")
        httpx.put(f"{self._base}/vhosts/{name}", auth=self._auth, timeout=10).raise_for_status()
        httpx.put(
            f"{self._base}/permissions/{name}/{quote(self._user, safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            auth=self._auth,
            timeout=10,
        ).raise_for_status()

    def delete_vhost(self, vhost: str) -> None:
        import httpx

        httpx.delete(f"{self._base}/vhosts/{quote(vhost, safe='')}", auth=self._auth, timeout=10)

    def allow_impersonation(self) -> None:
        import httpx

        user = f"{self._base}/users/{quote(self._user, safe='')}"
        current = httpx.get(user, auth=self._auth, timeout=10).raise_for_status().json()
        tags = set(current.get("tags") or []) | {"administrator", "impersonator"}
        body = {"password_hash": current["password_hash"], "tags": ",".join(sorted(tags))}
        httpx.put(user, json=body, auth=self._auth, timeout=10).raise_for_status()
