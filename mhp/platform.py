"""Running the whole platform on one machine: every service as its own process, on one broker.

`mhp up` uses this; so does the end-to-end test. Each service gets its own database file under the run
directory, its own HTTP port and its broker URL, exactly as a container would through its env: on a
provisioned broker (`mhp.provisioning`) its own user's (`<SERVICE>_RABBITMQ_URL`, as `mhp-<service>`) with
`<SERVICE>_DECLARE_TOPOLOGY=false`; otherwise the one shared `RABBITMQ_URL`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    owner: str
    purpose: str

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("triage", 8001, "trust", "MHP triage worklist and UK MHTS decisions"),
    ServiceSpec("booking", 8002, "PCN", "rota, risk-driven booking, attendance, FHIR Slot/Appointment"),
    ServiceSpec("referrals", 8003, "trust", "onward referrals, signposting, DNA follow-up"),
    ServiceSpec("metrics", 8004, "trust", "monthly PCN returns, trust view, live dashboard"),
)


def available_services() -> tuple[ServiceSpec, ...]:
    """Services whose package exists in this checkout."""
    root = Path(__file__).resolve().parents[1] / "services"
    return tuple(s for s in SERVICES if (root / s.name / "__main__.py").exists())


@dataclass
class RunningService:
    spec: ServiceSpec
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Platform:
    """Starts the services as child processes and stops them (SIGTERM, so each drains gracefully)."""

    amqp_url: str
    run_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    """HTTP port per service name; a service not listed uses its standard port."""
    extra_env: dict[str, str] = field(default_factory=dict)
    service_urls: dict[str, str] = field(default_factory=dict)
    """Each service's own broker login on a provisioned broker (its topology already declared there)."""
    running: list[RunningService] = field(default_factory=list)

    def broker_env(self, spec: ServiceSpec) -> dict[str, str]:
        own = self.service_urls.get(spec.name)
        if own is None:
            return {"RABBITMQ_URL": self.amqp_url}
        # Its own user has no configure permission: the provisioned definitions declared its queues.
        return {f"{spec.env_prefix}RABBITMQ_URL": own, f"{spec.env_prefix}DECLARE_TOPOLOGY": "false"}

    def service_env(self, spec: ServiceSpec, port: int) -> dict[str, str]:
        prefix = spec.env_prefix
        inherited = {k: v for k, v in os.environ.items() if not (self.service_urls and k == "RABBITMQ_URL")}
        return {
            **inherited,
            **self.broker_env(spec),
            f"{prefix}DATABASE_URL": f"sqlite+aiosqlite:///{self.run_dir / f'{spec.name}.db'}",
            f"{prefix}HTTP_HOST": "127.0.0.1",
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}LOG_JSON": "true",
            **self.extra_env,
        }

    def start(self, services: tuple[ServiceSpec, ...] | None = None) -> list[RunningService]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for spec in services or available_services():
            self.running.append(self._launch(spec, self.ports.get(spec.name, spec.port)))
        return self.running

    def _launch(self, spec: ServiceSpec, port: int) -> RunningService:
        log_path = self.run_dir / f"{spec.name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{spec.name}"],
                env=self.service_env(spec, port),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[1],
                start_new_session=True,  # a Ctrl-C reaches `mhp up`, which stops the services in order
            )
        return RunningService(spec, port, process, log_path)

    def service(self, name: str) -> RunningService:
        return next(s for s in self.running if s.spec.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL one service: no graceful shutdown, as in a crash or an OOM kill."""
        service = self.service(name)
        service.process.kill()
        service.process.wait(timeout=30)

    def restart(self, name: str) -> RunningService:
        """Start a stopped or killed service again on the same database, port and broker."""
        old = self.service(name)
        if old.process.poll() is None:
            old.process.send_signal(signal.SIGTERM)
            old.process.wait(timeout=30)
        new = self._launch(old.spec, old.port)
        self.running[self.running.index(old)] = new
        return new

    def wait_ready(self, timeout: float = 90.0, names: tuple[str, ...] = ()) -> None:
        """Wait until the services say they are ready (database, publisher, a consumer on each queue)."""
        deadline = time.monotonic() + timeout
        pending = [s for s in self.running if not names or s.spec.name in names]
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                if service.process.poll() is not None:
                    raise RuntimeError(f"{service.spec.name} exited; see {service.log_path}")
                try:
                    if httpx.get(f"{service.url}/health/ready", timeout=2).status_code == 200:
                        pending.remove(service)
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        if pending:
            waiting = ", ".join(s.spec.name for s in pending)
            raise RuntimeError(f"not ready after {timeout:.0f}s: {waiting}; see logs in {self.run_dir}")

    def stop(self, timeout: float = 20.0) -> None:
        for service in self.running:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.running:
            try:
                service.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                service.process.kill()
        self.running.clear()
