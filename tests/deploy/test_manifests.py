"""Deployment files agree with the code: modules, ports, probes, databases, secrets, identity by reference."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mhp.platform import SERVICES, ServiceSpec, available_services
from shared.identity.directory import DirectoryError, OrganisationDirectory
from shared.identity.roles import DEFAULT_ROLE_MAP, RoleMap
from shared.identity.settings import IdentitySettings
from shared.identity.tokens import IdentityNotConfigured, TokenVerifier

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
    expected = {"namespace.yaml", "identity.yaml", *(f"{s.name}.yaml" for s in SERVICES)}
    assert set(kustomization["resources"]) == expected


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


# Identity: one issuer and one organisation directory, shared by every service (shared/identity/settings.py).

ORGANISATIONS_MOUNT = "/etc/mhp/organisations.yaml"
DEMO_DIRECTORY = ROOT / "mhp" / "data" / "demo-organisations.yaml"


def _identity_configmaps() -> dict[str, dict[str, str]]:
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "identity.yaml").read_text()))
    assert {doc["kind"] for doc in documents} == {"ConfigMap"}
    assert {doc["metadata"]["namespace"] for doc in documents} == {"mhp"}
    return {doc["metadata"]["name"]: doc["data"] for doc in documents}


def _compose_value(value: str) -> str:
    """What compose passes for `${VAR:-default}` when the operator left VAR unset: the default."""
    match = re.fullmatch(r"\$\{[A-Z_]+:-(.*)\}", value)
    assert match is not None, f"{value!r} is not an optional variable with a default"
    return match.group(1)


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_compose_takes_every_service_issuer_from_the_environment(spec: ServiceSpec) -> None:
    env = _compose()["services"][spec.name]["environment"]
    # `:?` makes compose refuse to start (empty or unset) instead of running a service with no issuer.
    assert re.fullmatch(r"\$\{OIDC_ISSUER:\?[^}]+\}", env["OIDC_ISSUER"])
    assert _compose_value(env["OIDC_AUDIENCE"]) == "mhp-platform"
    assert "MHP_EMBEDDED_IDP" not in env


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_compose_mounts_the_organisation_directory_read_only(spec: ServiceSpec) -> None:
    service = _compose()["services"][spec.name]
    path = service["environment"]["MHP_ORGANISATIONS_FILE"]
    mounts = [volume for volume in service["volumes"] if volume["target"] == path]
    assert path == ORGANISATIONS_MOUNT
    assert len(mounts) == 1
    assert mounts[0]["type"] == "bind"
    assert mounts[0]["read_only"] is True
    assert re.fullmatch(r"\$\{MHP_ORGANISATIONS_PATH:\?[^}]+\}", mounts[0]["source"])


def test_compose_holds_no_literal_issuer() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    # The only URLs written out are each service's own health check on loopback: no issuer, no JWKS.
    urls = re.findall(r"https?://[^\s'\"]+", text)
    assert urls
    assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+/health/ready", url) for url in urls), urls


def test_compose_identity_defaults_are_the_settings_own(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _compose()["services"][SERVICES[0].name]["environment"]
    for name in ("OIDC_AUDIENCE", "OIDC_JWKS_URL", "OIDC_ALGORITHMS", "OIDC_LEEWAY_SECONDS"):
        monkeypatch.setenv(name, _compose_value(env[name]))
    monkeypatch.setenv("OIDC_ISSUER", "https://issuer.invalid")
    monkeypatch.setenv("MHP_ORGANISATIONS_FILE", str(DEMO_DIRECTORY))
    from_compose = IdentitySettings()
    defaults = {name: field.default for name, field in IdentitySettings.model_fields.items()}
    assert from_compose.oidc_audience == defaults["oidc_audience"]
    assert from_compose.oidc_algorithms == defaults["oidc_algorithms"]
    assert from_compose.oidc_leeway_seconds == defaults["oidc_leeway_seconds"]
    assert not from_compose.oidc_jwks_url  # empty: the verifier takes the discovery document's jwks_uri
    assert from_compose.mhp_role_map_file == DEFAULT_ROLE_MAP


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_gives_every_service_the_shared_identity_configmap(spec: ServiceSpec) -> None:
    identity = _identity_configmaps()["mhp-identity"]
    assert {"OIDC_ISSUER", "OIDC_AUDIENCE", "MHP_ORGANISATIONS_FILE"} <= set(identity)
    docs = _k8s(spec)
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert {"configMapRef": {"name": "mhp-identity"}} in container["envFrom"]
    # One source for the issuer: neither the service's own ConfigMap nor its env may override it.
    overriding = set(docs["ConfigMap"]["data"]) | {item["name"] for item in container.get("env", [])}
    assert not overriding & {"OIDC_ISSUER", "OIDC_AUDIENCE", "MHP_ORGANISATIONS_FILE"}


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_mounts_the_organisation_directory_read_only_as_the_configured_file(spec: ServiceSpec) -> None:
    configmaps = _identity_configmaps()
    path = Path(configmaps["mhp-identity"]["MHP_ORGANISATIONS_FILE"])
    pod = _k8s(spec)["Deployment"]["spec"]["template"]["spec"]
    mounts = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == str(path.parent)]
    assert len(mounts) == 1
    assert mounts[0]["readOnly"] is True
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[0]["name"])
    assert volume["configMap"]["name"] == "mhp-organisations"
    (item,) = volume["configMap"]["items"]
    assert item["path"] == path.name
    assert item["key"] in configmaps["mhp-organisations"]


def _settings_from_k8s(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **overrides: str) -> IdentitySettings:
    """The identity settings a pod gets from the shipped ConfigMaps, the directory file where it mounts."""
    configmaps = _identity_configmaps()
    data = {**configmaps["mhp-identity"], **overrides}
    directory = tmp_path / "organisations.yaml"
    directory.write_text(configmaps["mhp-organisations"]["organisations.yaml"])
    for name, value in data.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MHP_ORGANISATIONS_FILE", str(directory))
    return IdentitySettings()


def test_k8s_shipped_issuer_placeholder_stops_the_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = _settings_from_k8s(monkeypatch, tmp_path)
    with pytest.raises(IdentityNotConfigured, match="OIDC_ISSUER"):
        TokenVerifier(settings, OrganisationDirectory.load(DEMO_DIRECTORY), RoleMap.load())


def test_k8s_shipped_directory_placeholder_stops_the_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = _settings_from_k8s(monkeypatch, tmp_path, OIDC_ISSUER="https://issuer.invalid")
    with pytest.raises(DirectoryError):
        TokenVerifier.from_settings(settings)


def test_k8s_configmaps_filled_in_start_a_verifier(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings_from_k8s(monkeypatch, tmp_path, OIDC_ISSUER="https://issuer.invalid/")
    (tmp_path / "organisations.yaml").write_text(DEMO_DIRECTORY.read_text())
    verifier = TokenVerifier.from_settings(settings)
    assert verifier.issuer == "https://issuer.invalid"
    assert verifier.settings.oidc_audience == "mhp-platform"
    assert verifier.directory.pcn_of("Y01234") == "U00123"


def test_no_deployment_file_enables_the_embedded_provider() -> None:
    # The embedded provider is for `mhp up` and the tests only; the README may name it, nothing else may.
    files = [p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix != ".md"]
    assert any(p.name == "compose.yaml" for p in files)
    for path in files:
        assert "MHP_EMBEDDED_IDP" not in path.read_text(), path


def test_image_ships_the_default_role_map() -> None:
    top = DEFAULT_ROLE_MAP.relative_to(ROOT).parts[0]
    assert f"COPY {top} ./{top}" in _stages()["runtime"]
    ignore = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
    assert f"!{top}" in ignore
