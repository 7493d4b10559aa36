"""Credentials of MCP servers, sealed with a key from settings before they are stored.

The key is MCP_SECRETS_KEY: a Fernet key (urlsafe base64 of 32 bytes), or several separated by commas to rotate
one (the first seals; every one of them opens what it sealed). Unset with the local backend, a key is generated
in DATA_DIR at first use and kept there (0600, like the local signing key); both services may make it at the
same moment, so each writes a candidate and publishes it with `os.link`, and whoever loses reads the winner's.
The DynamoDB backend runs on any number of machines that must share one key, so there it must be set.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from apis.shared.config import Settings, StorageBackend
from apis.shared.durable_files import ensure_directory, sync_directory, write_temp
from apis.shared.errors import ConfigurationError
from apis.shared.tools.mcp.exceptions import McpCredentialsUnreadable

KEY_DIRECTORY = "secrets"
KEY_FILE = "mcp-secrets.key"
_UNREADABLE = (
    "the stored credentials of this MCP server cannot be decrypted with MCP_SECRETS_KEY (the key changed, or the"
    " stored value was altered): enter the server's credentials again"
)


class SecretBox:
    """Seals a few named strings (a token, an API key) into one opaque string, and opens it again."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("a secret box needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, values: Mapping[str, str]) -> str:
        """An encrypted, authenticated token holding `values`."""
        plain = json.dumps(dict(values), separators=(",", ":"), sort_keys=True).encode("utf-8")
        return self._fernet.encrypt(plain).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """The values `seal` was given; McpCredentialsUnreadable for another key's token or an altered one."""
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise McpCredentialsUnreadable(_UNREADABLE) from exc
        values = json.loads(plain)
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            # Authenticated by our own key, so only our own bug could have sealed this.
            raise McpCredentialsUnreadable(_UNREADABLE)
        return values


def secret_box_for(settings: Settings) -> SecretBox:
    """The box of this deployment: MCP_SECRETS_KEY, else (local backend only) the key kept in DATA_DIR."""
    configured = settings.tools.mcp_secrets_key
    if configured:
        return SecretBox(_configured_keys(configured))
    if settings.storage.storage_backend is StorageBackend.DYNAMODB:
        raise ConfigurationError(
            "STORAGE_BACKEND=dynamodb needs MCP_SECRETS_KEY to store MCP servers' credentials: every instance must"
            " share it. Make one with: python -c 'from cryptography.fernet import Fernet;"
            " print(Fernet.generate_key().decode())'"
        )
    return SecretBox([load_or_create_key(settings.storage.data_dir)])


def load_or_create_key(data_dir: Path) -> bytes:
    """The key kept in `data_dir`, created first when there is none."""
    key_dir = data_dir / KEY_DIRECTORY
    path = key_dir / KEY_FILE
    try:
        ensure_directory(key_dir)  # 0700, and so is DATA_DIR when this creates it
    except OSError as exc:
        raise ConfigurationError(f"cannot create the key directory {key_dir}") from exc
    if not path.exists():
        _publish_new_key(path)
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the MCP secrets key {path}") from exc
    if not _is_fernet_key(key):
        raise ConfigurationError(
            f"the MCP secrets key {path} is damaged; move it away to create a new one"
            " (the stored MCP credentials must then be entered again)"
        )
    return key


def _configured_keys(configured: str) -> list[bytes]:
    keys = [part.strip().encode("ascii", errors="replace") for part in configured.split(",") if part.strip()]
    if not keys or not all(_is_fernet_key(key) for key in keys):
        raise ConfigurationError(
            "MCP_SECRETS_KEY must be a Fernet key (urlsafe base64 of 32 bytes), or several separated by commas"
        )
    return keys


def _is_fernet_key(key: bytes) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def _publish_new_key(path: Path) -> None:
    try:
        temp = write_temp(path, Fernet.generate_key() + b"\n")  # mkstemp creates it 0600; the link shares the inode
        try:
            # The other service published its key first: that one is everyone's, ours is dropped.
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        sync_directory(path.parent)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the MCP secrets key {path}") from exc
