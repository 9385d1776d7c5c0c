"""Broker users' passwords for the definitions document: RabbitMQ's salted hash, read from env or files."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

HASHING_ALGORITHM = "rabbit_password_hashing_sha256"


def password_env_var(user: str) -> str:
    """`mhp-triage` → `RABBITMQ_PASSWORD_MHP_TRIAGE`: where `--passwords-from-env` reads a user's password."""
    return "RABBITMQ_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", user.upper())


def hash_password(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def passwords_from_env(users: Iterable[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every user's password from `RABBITMQ_PASSWORD_<USER>`; a missing one is an error (fail closed)."""
    env = os.environ if env is None else env
    missing = [password_env_var(u) for u in users if not env.get(password_env_var(u))]
    if missing:
        raise SystemExit(f"missing passwords in the environment: {', '.join(missing)}")
    return {u: env[password_env_var(u)] for u in users}


def password_file(user: str) -> str:
    """`mhp-triage` → `rabbitmq_password_mhp_triage`: the secret file `--passwords-from-dir` reads."""
    return password_env_var(user).lower()


def passwords_from_dir(users: Iterable[str], directory: Path) -> dict[str, str]:
    """Every user's password from `<directory>/rabbitmq_password_<user>`; a missing one is an error."""
    found: dict[str, str] = {}
    missing = []
    for user in users:
        path = directory / password_file(user)
        password = path.read_text().strip() if path.is_file() else ""
        if password:
            found[user] = password
        else:
            missing.append(str(path))
    if missing:
        raise SystemExit(f"missing password files: {', '.join(missing)}")
    return found
