"""Deployment files agree with the code: modules, ports, probes, databases, secrets, identity by reference."""

from __future__ import annotations

import base64
import importlib
import importlib.util
import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

from mhp import definitions
from mhp.broker_passwords import hash_password
from mhp.platform import SERVICES, ServiceSpec, available_services
from shared.identity.directory import DirectoryError, OrganisationDirectory
from shared.identity.roles import DEFAULT_ROLE_MAP, RoleMap
from shared.identity.settings import IdentitySettings
from shared.identity.tokens import IdentityNotConfigured, TokenVerifier
from shared.settings import ServiceSettings

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
RUN_SECRETS = Path("/run/secrets")
SECRETS_DIR = DEPLOY / "secrets"
CA_FILE = "mhp_ca_pem"
"""Not a setting: the CA file the URLs name (`?cafile=/run/secrets/mhp_ca_pem`)."""
TLS_FILES = {CA_FILE, "rabbitmq_tls_server_pem", "rabbitmq_tls_server_key"}
"""Secret files from the trust's PKI, not generated."""
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]*@", re.IGNORECASE)


def _settings_class(spec: ServiceSpec) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{spec.name}.settings")
    settings_class: type[ServiceSettings] = getattr(module, f"{spec.name.capitalize()}Settings")
    return settings_class


def _assert_files_are_read_as_settings(
    spec: ServiceSpec, names: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Files with these names in the secrets directory give the service its broker and database URLs and
    the session secret: the names are right for the settings (shared/settings.py, MHP_SECRETS_DIR)."""
    prefix = spec.env_prefix.lower()
    values = {
        f"{prefix}rabbitmq_url": f"amqps://mhp-{spec.name}:from-file@rabbitmq:5671/mhp?cafile=/run/secrets/{CA_FILE}",
        f"{prefix}database_url": f"postgresql+asyncpg://{spec.name}:from-file@postgres:5432/{spec.name}",
        "mhp_session_secret": "session-from-file",
    }
    directory = tmp_path / "run-secrets"
    directory.mkdir()
    for name in names:
        (directory / name).write_text(values.get(name, f"contents of {name}") + "\n")
    for variable in (*(name.upper() for name in values), "RABBITMQ_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MHP_SECRETS_DIR", str(directory))
    settings = _settings_class(spec)()
    identity = IdentitySettings()
    assert settings.rabbitmq_url == values[f"{prefix}rabbitmq_url"]
    assert settings.database_url == values[f"{prefix}database_url"]
    assert identity.mhp_session_secret == values["mhp_session_secret"]
    # The CA file must not shadow a setting (its PEM text would become the setting's value).
    setting_files = {prefix + name for name in type(settings).model_fields} | set(
        IdentitySettings.model_fields
    )
    assert CA_FILE not in setting_files


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
    assert set(docs) == {
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
    }
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": port}
    assert docs["ConfigMap"]["data"][f"{spec.env_prefix}HTTP_PORT"] == str(port)
    assert docs["ConfigMap"]["data"][f"{spec.env_prefix}HTTP_HOST"] == "0.0.0.0"  # noqa: S104
    assert docs["Service"]["spec"]["ports"][0]["port"] == port


def _k8s_secret_files(spec: ServiceSpec) -> dict[str, tuple[str, str]]:
    """File name in /run/secrets -> (Secret name, key), from the Deployment's projected `secrets` volume."""
    pod = _k8s(spec)["Deployment"]["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == str(RUN_SECRETS)]
    assert mount["readOnly"] is True
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["projected"]["defaultMode"] == 0o440
    files: dict[str, tuple[str, str]] = {}
    for source in volume["projected"]["sources"]:
        for item in source["secret"]["items"]:
            assert item["path"] not in files
            files[item["path"]] = (source["secret"]["name"], item["key"])
    return files


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_secrets_are_files_in_run_secrets_never_the_environment(spec: ServiceSpec) -> None:
    docs = _k8s(spec)
    assert not any("URL" in key or "SECRET" in key for key in docs["ConfigMap"]["data"])
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]  # 0440 files readable
    container = pod["containers"][0]
    assert "env" not in container  # nothing from a Secret (nor MHP_SECRETS_DIR: the default /run/secrets)
    assert all("secretRef" not in source for source in container["envFrom"])
    prefix = spec.env_prefix.lower()
    assert _k8s_secret_files(spec) == {
        f"{prefix}rabbitmq_url": (f"mhp-{spec.name}", "rabbitmq-url"),
        f"{prefix}database_url": (f"mhp-{spec.name}", "database-url"),
        "mhp_session_secret": ("mhp-session", "session-secret"),
        CA_FILE: ("mhp-ca", "ca.pem"),
    }


@pytest.mark.parametrize("spec", available_services(), ids=[s.name for s in available_services()])
def test_k8s_secret_files_are_read_as_the_services_settings(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _assert_files_are_read_as_settings(spec, list(_k8s_secret_files(spec)), monkeypatch, tmp_path)


def test_kustomization_lists_every_service_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    expected = {"namespace.yaml", "default-deny.yaml", "identity.yaml", *(f"{s.name}.yaml" for s in SERVICES)}
    assert set(kustomization["resources"]) == expected


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_compose_runs_the_service_on_postgres_after_healthy_dependencies(spec: ServiceSpec) -> None:
    port = _default_port(spec)
    service = _compose()["services"][spec.name]
    env = service["environment"]
    prefix = spec.env_prefix
    assert service["build"]["target"] == spec.name
    assert env[f"{prefix}HTTP_PORT"] == str(port)
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
    assert (
        "./postgres/init-databases.sh:/docker-entrypoint-initdb.d/10-init-databases.sh:ro"
        in postgres["volumes"]
    )


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


def _secret_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Secret name -> the path a service sees it at (short syntax and relative targets: /run/secrets/)."""
    mounts: dict[str, str] = {}
    for entry in service.get("secrets", []):
        source, target = (entry, entry) if isinstance(entry, str) else (entry["source"], entry.get("target"))
        target = target or source
        assert source not in mounts, f"{source} mounted twice"
        mounts[source] = target if target.startswith("/") else str(RUN_SECRETS / target)
    return mounts


def test_compose_environment_holds_no_password_nor_a_url_that_embeds_one() -> None:
    services = _compose()["services"]
    secret_settings = {"RABBITMQ_URL", "MHP_SESSION_SECRET"}
    for spec in SERVICES:
        secret_settings |= {f"{spec.env_prefix}RABBITMQ_URL", f"{spec.env_prefix}DATABASE_URL"}
    for name, service in services.items():
        env = service.get("environment", {})
        assert isinstance(env, dict), name
        for key, value in env.items():
            assert key not in secret_settings, f"{name}: {key} is a secret file, not the environment"
            if re.search(r"PASSWORD|SECRET", key):
                # Only the postgres image's own `_FILE` convention: a path, never the password.
                assert key.endswith("_FILE"), f"{name}: {key}"
                assert value in _secret_mounts(service).values(), f"{name}: {key}={value}"
            assert not URL_WITH_PASSWORD.search(str(value)), f"{name}: {key}"
            assert not re.search(r"\$\{[^}]*(PASSWORD|SECRET)", str(value)), f"{name}: {key}"
    text = (DEPLOY / "compose.yaml").read_text()
    assert not URL_WITH_PASSWORD.search(text)
    assert not re.search(r"\$\{[A-Z_]*(PASSWORD|SECRET)", text)


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_compose_service_mounts_its_url_secrets_and_no_other_services(spec: ServiceSpec) -> None:
    service = _compose()["services"][spec.name]
    prefix = spec.env_prefix.lower()
    assert _secret_mounts(service) == {
        f"{prefix}rabbitmq_url": f"/run/secrets/{prefix}rabbitmq_url",
        f"{prefix}database_url": f"/run/secrets/{prefix}database_url",
        "mhp_session_secret": "/run/secrets/mhp_session_secret",
        CA_FILE: f"/run/secrets/{CA_FILE}",
    }
    assert "MHP_SECRETS_DIR" not in service["environment"]  # the default: /run/secrets


@pytest.mark.parametrize("spec", available_services(), ids=[s.name for s in available_services()])
def test_compose_secret_files_are_read_as_the_services_settings(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mounts = _secret_mounts(_compose()["services"][spec.name])
    assert {Path(path).parent for path in mounts.values()} == {RUN_SECRETS}
    _assert_files_are_read_as_settings(
        spec, [Path(path).name for path in mounts.values()], monkeypatch, tmp_path
    )


def test_compose_every_secret_is_a_file_under_deploy_secrets() -> None:
    declared = _compose()["secrets"]
    assert len(declared) >= 4 * 2 + 2
    for name, secret in declared.items():
        assert set(secret) == {"file"}, name  # not `environment:`, not external
        path = (DEPLOY / secret["file"]).resolve()
        assert path.parent == SECRETS_DIR, name
        assert path.name == name


def test_compose_every_secret_a_service_mounts_is_declared_and_every_declared_one_is_mounted() -> None:
    compose = _compose()
    mounted = {name for service in compose["services"].values() for name in _secret_mounts(service)}
    assert mounted == set(compose["secrets"])


def test_secrets_directory_commits_nothing_but_its_readme() -> None:
    files = [f"deploy/secrets/{name}" for name in _compose()["secrets"]]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *files], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert set(ignored.stdout.split()) == set(files)
    kept = ["deploy/secrets/README.md", "deploy/secrets/.gitignore"]
    not_ignored = subprocess.run(["git", "check-ignore", "--no-index", *kept], cwd=ROOT, check=False)
    assert not_ignored.returncode == 1  # none of them ignored
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/secrets"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert set(tracked.stdout.split()) <= set(kept)


def _generator_block() -> str:
    readme = (SECRETS_DIR / "README.md").read_text()
    match = re.search(r"```sh\n(cd deploy/secrets .*?)```", readme, re.DOTALL)
    assert match is not None, "deploy/secrets/README.md lost its generator block"
    return match.group(1)


def _run_generator(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", _generator_block()], cwd=root, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the generator uses openssl")
def test_secrets_readme_generates_every_password_file_and_consistent_urls(tmp_path: Path) -> None:
    compose = _compose()
    generated = tmp_path / "deploy" / "secrets"
    generated.mkdir(parents=True)
    assert _run_generator(tmp_path).returncode == 0
    files = {path.name: path.read_text().strip() for path in generated.iterdir()}
    assert set(files) == set(compose["secrets"]) - TLS_FILES
    assert len(set(files.values())) == len(files)  # every password its own
    for spec in SERVICES:
        broker = urlsplit(files[f"{spec.name}_rabbitmq_url"])
        assert (broker.scheme, broker.hostname, broker.port, broker.path) == (
            "amqps",
            "rabbitmq",
            5671,
            "/mhp",
        )
        assert broker.username == f"mhp-{spec.name}"
        assert unquote(broker.password or "") == files[f"rabbitmq_password_mhp_{spec.name}"]
        # The CA file the URL names is where compose mounts it in that service.
        (cafile,) = parse_qs(broker.query)["cafile"]
        assert cafile == _secret_mounts(compose["services"][spec.name])[CA_FILE]
        database = urlsplit(files[f"{spec.name}_database_url"])
        assert (database.scheme, database.hostname, database.port) == ("postgresql+asyncpg", "postgres", 5432)
        assert (database.username, database.path) == (spec.name, f"/{spec.name}")
        assert database.password == files[f"postgres_password_{spec.name}"]
    # It never overwrites an existing secret.
    before = {path.name: path.read_text() for path in generated.iterdir()}
    assert _run_generator(tmp_path).returncode != 0
    assert {path.name: path.read_text() for path in generated.iterdir()} == before


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the generator uses openssl")
def test_compose_definitions_renderer_gets_every_broker_users_password_from_its_secrets(
    tmp_path: Path,
) -> None:
    compose = _compose()
    renderer = compose["services"]["rabbitmq-definitions"]
    assert "environment" not in renderer
    command = renderer["command"]
    assert command[:3] == ["python", "-m", "mhp.definitions"]
    assert command[command.index("--passwords-from-dir") + 1] == str(RUN_SECRETS)
    # The container's /run/secrets: exactly what compose mounts there, from the README's generated files.
    (tmp_path / "deploy" / "secrets").mkdir(parents=True)
    assert _run_generator(tmp_path).returncode == 0
    run_secrets = tmp_path / "run-secrets"
    run_secrets.mkdir()
    for source, target in _secret_mounts(renderer).items():
        assert Path(target).parent == RUN_SECRETS
        shutil.copy(tmp_path / "deploy" / "secrets" / source, run_secrets / Path(target).name)
    output = tmp_path / "definitions.json"
    args = [str(run_secrets) if arg == str(RUN_SECRETS) else arg for arg in command[3:]]
    args[args.index("--output") + 1] = str(output)
    definitions.main(args)
    users = yaml.safe_load(output.read_text())["users"]
    assert {user["name"] for user in users} >= {
        "mhp-admin",
        *(f"mhp-{s.name}" for s in SERVICES),
        "pcn-u00123",
    }
    for user in users:
        password = (run_secrets / f"rabbitmq_password_{user['name'].replace('-', '_')}").read_text().strip()
        salt = base64.b64decode(user["password_hash"])[:4]
        assert user["password_hash"] == hash_password(password, salt), user["name"]


def test_compose_postgres_takes_every_password_from_secret_files(tmp_path: Path) -> None:
    postgres = _compose()["services"]["postgres"]
    mounts = _secret_mounts(postgres)
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == mounts["postgres_password"]
    # The entrypoint exports what postgres/init-databases.sh reads; run it with the secrets somewhere else
    # and the image's entrypoint replaced by one that records its environment.
    run_secrets = tmp_path / "run-secrets"
    run_secrets.mkdir()
    for source, target in mounts.items():
        (run_secrets / Path(target).name).write_text(f"pw-{source}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker-entrypoint.sh"
    fake.write_text(f'#!/bin/sh\nenv > "{tmp_path}/env"\necho "$@" > "{tmp_path}/args"\n')
    fake.chmod(0o755)
    shell, flag, script = postgres["entrypoint"]
    assert (shell, flag) == ("sh", "-c")
    script = script.replace("$$", "$").replace(str(RUN_SECRETS), str(run_secrets))  # compose's `$$` is `$`
    subprocess.run(
        [shell, flag, script], env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}, check=True, timeout=30
    )
    assert (tmp_path / "args").read_text().split() == ["postgres"]
    env = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines() if "=" in line)
    init = (DEPLOY / "postgres" / "init-databases.sh").read_text()
    match = re.search(r"for service in ([a-z ]+); do", init)
    assert match is not None
    for service in match.group(1).split():
        assert env[f"POSTGRES_PASSWORD_{service.upper()}"] == f"pw-postgres_password_{service}"


def _rabbitmq_conf_files(rabbitmq: dict[str, Any]) -> list[Path]:
    """The configuration files compose mounts into the broker's conf.d."""
    files = []
    for volume in rabbitmq["volumes"]:
        source, target, *_ = volume.split(":")
        if target.startswith("/etc/rabbitmq/conf.d/"):
            files.append(DEPLOY / source)
    return files


def test_compose_broker_listens_for_amqps_with_its_certificates_from_secrets() -> None:
    rabbitmq = _compose()["services"]["rabbitmq"]
    settings: dict[str, str] = {}
    for path in _rabbitmq_conf_files(rabbitmq):
        for line in path.read_text().splitlines():
            match = re.fullmatch(r"\s*([a-z_.0-9]+)\s*=\s*(\S+)\s*", line)
            if match:
                settings[match.group(1)] = match.group(2)
    assert settings["listeners.ssl.default"] == "5671"
    mounted = _secret_mounts(rabbitmq)
    tls = {key: settings[f"ssl_options.{key}"] for key in ("cacertfile", "certfile", "keyfile")}
    assert tls == {
        "cacertfile": mounted[CA_FILE],
        "certfile": mounted["rabbitmq_tls_server_pem"],
        "keyfile": mounted["rabbitmq_tls_server_key"],
    }
    # Practice systems reach the host on AMQPS only; plain AMQP is not published.
    published = [str(port).rsplit(":", 1)[-1] for port in rabbitmq["ports"]]
    assert "5671" in published
    assert "5672" not in published


def test_compose_broker_enables_the_federation_the_definitions_need() -> None:
    compose = _compose()
    (mount,) = [
        c
        for c in compose["services"]["rabbitmq"]["configs"]
        if c["target"] == "/etc/rabbitmq/enabled_plugins"
    ]
    content = compose["configs"][mount["source"]]["content"]
    plugins = re.fullmatch(r"\[([a-z_,]+)\]\.\n?", content)
    assert plugins is not None
    assert {"rabbitmq_management", "rabbitmq_federation"} <= set(plugins.group(1).split(","))
    committed = yaml.safe_load((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    assert any(p["component"] == "federation-upstream" for p in committed["parameters"])


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


# Kubernetes: least privilege for every pod (network, API token, disruptions, resources).

DNS_PORTS = {("UDP", 53), ("TCP", 53)}
BROKER_PORTS = {("TCP", 5671), ("TCP", 5672)}
DATABASE_PORTS = {("TCP", 5432)}
ISSUER_PORTS = {("TCP", 443)}


def _ports(rule: dict[str, Any]) -> set[tuple[str, int]]:
    assert rule.get("ports"), f"a rule without ports allows every port: {rule}"
    return {(port.get("protocol", "TCP"), port["port"]) for port in rule["ports"]}


def _namespace(peer: dict[str, Any]) -> str:
    name: str = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    return name


def test_k8s_namespace_denies_all_traffic_by_default() -> None:
    (policy,) = [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / "default-deny.yaml").read_text()) if doc]
    assert policy["kind"] == "NetworkPolicy"
    assert policy["metadata"]["namespace"] == "mhp"
    assert policy["spec"]["podSelector"] == {}  # every pod in the namespace
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert not policy["spec"].get("ingress")
    assert not policy["spec"].get("egress")


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_service_takes_ingress_only_on_its_port_from_the_ingress_controller_and_prometheus(
    spec: ServiceSpec,
) -> None:
    docs = _k8s(spec)
    policy = docs["NetworkPolicy"]["spec"]
    assert policy["podSelector"] == docs["Deployment"]["spec"]["selector"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    port = _default_port(spec)
    namespaces = set()
    for rule in policy["ingress"]:
        assert rule.get("from"), "a rule without `from` admits every source"
        assert _ports(rule) == {("TCP", port)}
        for peer in rule["from"]:
            assert "ipBlock" not in peer
            namespaces.add(_namespace(peer))
    assert namespaces == {"ingress-nginx", "monitoring"}


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_service_egresses_only_to_broker_database_dns_and_the_issuer(spec: ServiceSpec) -> None:
    rules = _k8s(spec)["NetworkPolicy"]["spec"]["egress"]
    by_ports = {frozenset(_ports(rule)): rule["to"] for rule in rules}
    assert len(by_ports) == len(rules)
    assert set(by_ports) == {
        frozenset(BROKER_PORTS),
        frozenset(DATABASE_PORTS),
        frozenset(DNS_PORTS),
        frozenset(ISSUER_PORTS),
    }
    for peers in by_ports.values():
        assert peers, "a rule without `to` allows every destination"
    (broker,) = by_ports[frozenset(BROKER_PORTS)]
    assert _namespace(broker) == "mhp-broker"
    assert broker["podSelector"]["matchLabels"]
    (dns,) = by_ports[frozenset(DNS_PORTS)]
    assert _namespace(dns) == "kube-system"
    assert dns["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    (database,) = by_ports[frozenset(DATABASE_PORTS)]
    assert ipaddress.ip_network(database["ipBlock"]["cidr"]).num_addresses < 2**16  # one host or subnet
    (issuer,) = by_ports[frozenset(ISSUER_PORTS)]
    allowed = ipaddress.ip_network(issuer["ipBlock"]["cidr"])
    excepted = [ipaddress.ip_network(cidr) for cidr in issuer["ipBlock"]["except"]]

    def reachable(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return ip in allowed and not any(ip in network for network in excepted)

    assert reachable("20.0.0.1")  # a public issuer
    for internal in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1"):
        assert not reachable(internal), internal  # the cluster, private networks, cloud metadata


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_service_runs_as_its_own_service_account_without_an_api_token(spec: ServiceSpec) -> None:
    docs = _k8s(spec)
    account = docs["ServiceAccount"]
    assert account["metadata"] == {**account["metadata"], "name": f"mhp-{spec.name}", "namespace": "mhp"}
    assert account["automountServiceAccountToken"] is False
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_disruption_budget_covers_the_service_without_blocking_drains(spec: ServiceSpec) -> None:
    docs = _k8s(spec)
    budget = docs["PodDisruptionBudget"]
    assert budget["apiVersion"] == "policy/v1"
    assert budget["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]
    replicas = docs["Deployment"]["spec"]["replicas"]
    if "minAvailable" in budget["spec"]:
        assert budget["spec"]["minAvailable"] < replicas
    else:
        assert 1 <= budget["spec"]["maxUnavailable"] <= replicas


def _quantity(value: str | int, kind: str) -> float:
    text = str(value)
    if kind == "cpu":
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_IDS)
def test_k8s_every_container_has_cpu_and_memory_requests_and_limits(spec: ServiceSpec) -> None:
    pod = _k8s(spec)["Deployment"]["spec"]["template"]["spec"]
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    assert containers
    for container in containers:
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            request = _quantity(resources["requests"][kind], kind)
            limit = _quantity(resources["limits"][kind], kind)
            assert 0 < request <= limit, (container["name"], kind)
