"""Deployment files agree with the code: modules, ports, probe paths, databases and secrets by reference."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mhp.platform import SERVICES, ServiceSpec, available_services

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


def _default_port(spec: ServiceSpec) -> int:
    """The HTTP port the service's settings class defaults to (its standard port if not written yet)."""
    if importlib.util.find_spec(f"services.{spec.name}") is None:
        return spec.port
    if importlib.util.find_spec(f"services.{spec.name}.settings") is None:
        return spec.port
    module = importlib.import_module(f"services.{spec.name}.settings")
    settings_class = getattr(module, f"{spec.name.capitalize()}Settings")
    return int(settings_class.model_fields["http_port"].default)


def _stages() -> dict[str, str]:
    """Dockerfile text per build stage name."""
    stages: dict[str, str] = {}
    current = None
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = match.group(1)
            stages[current] = ""
        if current is not None:
            stages[current] += line + "\n"
    return stages


def _k8s(spec: ServiceSpec) -> dict[str, dict[str, Any]]:
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / f"{spec.name}.yaml").read_text()))
    return {doc["kind"]: doc for doc in documents}


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return compose


SERVICE_IDS = [s.name for s in SERVICES]


def test_every_yaml_file_under_deploy_parses() -> None:
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) >= 6
    for path in files:
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert documents, f"{path} is empty"


def test_dockerfile_has_one_target_per_service_and_the_tools_image() -> None:
    assert {s.name for s in SERVICES} | {"build", "runtime", "tools"} == set(_stages())


def test_runtime_image_runs_as_a_non_root_user() -> None:
    runtime = _stages()["runtime"]
    assert re.search(r"^USER 10001:10001$", runtime, re.MULTILINE)


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_dockerfile_target_runs_the_service_module_on_its_port(spec: ServiceSpec) -> None:
    stage = _stages()[spec.name]
    port = _default_port(spec)
    prefix = spec.env_prefix
    assert f'CMD ["python", "-m", "services.{spec.name}"]' in stage
    assert f"EXPOSE {port}" in stage
    assert f"{prefix}HTTP_HOST=0.0.0.0" in stage
    assert f"{prefix}HTTP_PORT={port}" in stage
    assert f"http://127.0.0.1:{port}/health/live" in stage


@pytest.mark.parametrize("spec", available_services(), ids=[s.name for s in available_services()])
def test_dockerfile_cmd_module_exists(spec: ServiceSpec) -> None:
    assert (ROOT / "services" / spec.name / "__main__.py").exists()
    assert (ROOT / "services" / spec.name / "bootstrap.py").exists()


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_probes_and_ports_match_the_service_settings(spec: ServiceSpec) -> None:
    port = _default_port(spec)
    docs = _k8s(spec)
    assert set(docs) == {"ConfigMap", "Deployment", "Service"}
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": port}
    assert docs["ConfigMap"]["data"][f"{spec.env_prefix}HTTP_PORT"] == str(port)
    assert docs["ConfigMap"]["data"][f"{spec.env_prefix}HTTP_HOST"] == "0.0.0.0"  # noqa: S104
    assert docs["Service"]["spec"]["ports"][0]["port"] == port


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_urls_come_from_a_secret_not_the_configmap(spec: ServiceSpec) -> None:
    docs = _k8s(spec)
    assert not any("URL" in key for key in docs["ConfigMap"]["data"])
    env = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    by_name = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in env}
    assert by_name[f"{spec.env_prefix}RABBITMQ_URL"] == {"name": f"mhp-{spec.name}", "key": "rabbitmq-url"}
    assert by_name[f"{spec.env_prefix}DATABASE_URL"] == {"name": f"mhp-{spec.name}", "key": "database-url"}


def test_kustomization_lists_every_service_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert set(kustomization["resources"]) == {"namespace.yaml", *(f"{s.name}.yaml" for s in SERVICES)}


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_compose_runs_the_service_on_postgres_after_healthy_dependencies(spec: ServiceSpec) -> None:
    port = _default_port(spec)
    service = _compose()["services"][spec.name]
    env = service["environment"]
    prefix = spec.env_prefix
    assert service["build"]["target"] == spec.name
    assert env[f"{prefix}HTTP_PORT"] == str(port)
    assert env[f"{prefix}DATABASE_URL"].startswith(f"postgresql+asyncpg://{spec.name}:")
    assert env[f"{prefix}DATABASE_URL"].endswith(f"@postgres:5432/{spec.name}")
    assert env[f"{prefix}RABBITMQ_URL"].startswith(f"amqp://mhp-{spec.name}:")
    assert f"http://127.0.0.1:{port}/health/ready" in " ".join(service["healthcheck"]["test"])
    assert service["depends_on"] == {
        "rabbitmq": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }


def test_compose_creates_one_database_per_service() -> None:
    script = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    match = re.search(r"for service in ([a-z ]+); do", script)
    assert match is not None
    assert match.group(1).split() == [s.name for s in SERVICES]
    postgres = _compose()["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    for spec in SERVICES:
        assert f"POSTGRES_PASSWORD_{spec.name.upper()}" in postgres["environment"]


def test_compose_broker_loads_definitions_rendered_from_the_code() -> None:
    services = _compose()["services"]
    rabbitmq = services["rabbitmq"]
    assert rabbitmq["image"] == "rabbitmq:3.13-management"
    assert rabbitmq["depends_on"] == {"rabbitmq-definitions": {"condition": "service_completed_successfully"}}
    assert "rabbitmq-definitions:/etc/rabbitmq/definitions:ro" in rabbitmq["volumes"]
    conf = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "load_definitions = /etc/rabbitmq/definitions/definitions.json" in conf
    assert services["rabbitmq-definitions"]["build"]["target"] == "tools"
    assert "/app/definitions/definitions.json" in _stages()["tools"]


def test_compose_holds_no_literal_password() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    # Every credential is an environment reference that compose refuses to run without.
    for match in re.finditer(r"(PASSWORD[A-Z_]*): (\S+)", text):
        assert match.group(2).startswith("${"), match.group(0)
    assert not re.search(r"amqp://[^:$]+:[^$]", text)
