"""RSA keys of the demo provider: its token-signing key and the practice systems' client keys, kept
as PEM files (mode 0600) in the state directory so a restart keeps issued tokens and system keys valid."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_BITS = 2048
SIGNING_KEY_FILE = "signing-key.pem"
CLIENTS_DIR = "clients"


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


def write_private_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Write atomically with mode 0600 from the start (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private_pem(key))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_or_create(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return load_private_key(path)
    key = generate_key()
    write_private_key(path, key)
    return key


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def thumbprint(key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a key id that changes exactly when the key does."""
    members = public_jwk(key)
    canonical = json.dumps({k: members[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def of(cls, private: rsa.RSAPrivateKey) -> SigningKey:
        return cls(private=private, kid=thumbprint(private.public_key()))

    @property
    def public(self) -> rsa.RSAPublicKey:
        return self.private.public_key()

    def jwk(self) -> dict[str, Any]:
        return {**public_jwk(self.public), "kid": self.kid, "use": "sig", "alg": "RS256"}


def signing_key(state_dir: Path) -> SigningKey:
    return SigningKey.of(load_or_create(state_dir / SIGNING_KEY_FILE))


def client_key_path(state_dir: Path, client_id: str) -> Path:
    return state_dir / CLIENTS_DIR / f"{client_id}.pem"


def client_public_keys(state_dir: Path, client_ids: list[str]) -> dict[str, rsa.RSAPublicKey]:
    """Each system's public key; its private key is made at first start, for the demo to act as it."""
    return {cid: load_or_create(client_key_path(state_dir, cid)).public_key() for cid in client_ids}
