"""Local mode's ES256 signing key, kept as PEM files in `DATA_DIR` and created at first start.

Both services may start at the same moment on a fresh `DATA_DIR`. Each writes a candidate key to a temp
file and publishes it with `os.link`, which fails when the name exists; whoever loses discards its candidate,
and everyone reads the one published file. A reader therefore never sees a half-written key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apis.shared.durable_files import ensure_directory, sync_directory, write_temp
from apis.shared.errors import ConfigurationError

KEY_DIRECTORY = "auth"
PRIVATE_KEY_FILE = "local-signing-key.pem"
PUBLIC_KEY_FILE = "local-signing-key.pub.pem"


@dataclass(frozen=True, slots=True)
class LocalKeyPair:
    """The key that signs local tokens, its public half and the `kid` tokens name it by."""

    private_key: ec.EllipticCurvePrivateKey
    public_key: ec.EllipticCurvePublicKey
    kid: str
    private_key_path: Path
    public_key_path: Path

    @property
    def public_pem(self) -> bytes:
        return _public_pem(self.public_key)


def load_or_create_key_pair(data_dir: Path) -> LocalKeyPair:
    """Read the signing key from `data_dir`, creating it first when this is the first start."""
    key_dir = data_dir / KEY_DIRECTORY
    private_path = key_dir / PRIVATE_KEY_FILE
    public_path = key_dir / PUBLIC_KEY_FILE
    try:
        ensure_directory(key_dir)  # 0700, and so is DATA_DIR when this creates it
    except OSError as exc:
        raise ConfigurationError(f"cannot create the key directory {key_dir}") from exc
    if not private_path.exists():
        _publish_new_private_key(private_path)
    private_key = _read_private_key(private_path)
    public_key = private_key.public_key()
    _publish_public_key(public_path, _public_pem(public_key))
    return LocalKeyPair(
        private_key=private_key,
        public_key=public_key,
        kid=key_id(public_key),
        private_key_path=private_path,
        public_key_path=public_path,
    )


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256): anyone holding the public key can recompute it."""
    numbers = public_key.public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode("ascii")
    return _b64url(hashlib.sha256(canonical).digest())


def _publish_new_private_key(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        temp = write_temp(path, pem)  # mkstemp creates it 0600, and the link shares that inode
        try:
            # Another process published first: its key is the one everyone uses, ours is dropped.
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        sync_directory(path.parent)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the local signing key {path}") from exc


def _publish_public_key(path: Path, pem: bytes) -> None:
    """Write the public half for other tools; every writer derives the same bytes, so a replace is safe.

    It stays 0600 like everything in DATA_DIR: a tool that reads it runs as the services' user.
    """
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == pem:
            return
    try:
        temp = write_temp(path, pem)
        try:
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the local public key {path}") from exc


def _read_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the local signing key {path}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            f"the local signing key {path} is damaged; move it away to create a new one"
            " (tokens signed with the old key stop working)"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError(f"the local signing key {path} is not a P-256 EC key")
    return key


def _public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
