"""Credentials sealed with MCP_SECRETS_KEY, or with a key the local backend keeps in DATA_DIR."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from apis.shared.config import AuthMode, AuthSettings, Settings, StorageBackend, StorageSettings, ToolsSettings
from apis.shared.errors import ConfigurationError
from apis.shared.tools.mcp import McpCredentialsUnreadable, SecretBox, secret_box_for
from apis.shared.tools.mcp.secrets import KEY_DIRECTORY, KEY_FILE

CREDENTIALS = {"bearerToken": "t0k-very-secret"}


def _settings(data_dir: Path, *, backend: StorageBackend = StorageBackend.LOCAL, key: str | None = None) -> Settings:
    return Settings(
        storage=StorageSettings(storage_backend=backend, data_dir=data_dir),
        auth=AuthSettings(auth_mode=AuthMode.LOCAL),
        tools=ToolsSettings(mcp_secrets_key=key),
    )


def _box() -> SecretBox:
    return SecretBox([Fernet.generate_key()])


def test_sealed_values_open_to_the_same_values_and_do_not_show_them() -> None:
    box = _box()

    token = box.seal(CREDENTIALS)

    assert "t0k-very-secret" not in token
    assert box.open(token) == CREDENTIALS


def test_a_token_sealed_with_another_key_is_a_clear_error() -> None:
    token = _box().seal(CREDENTIALS)

    with pytest.raises(McpCredentialsUnreadable, match="enter the server's credentials again") as raised:
        _box().open(token)

    assert raised.value.status_code == 500
    assert raised.value.code == "mcp_credentials_unreadable"


def test_an_altered_token_is_a_clear_error() -> None:
    box = _box()
    token = box.seal(CREDENTIALS)
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]

    with pytest.raises(McpCredentialsUnreadable):
        box.open(altered)
    with pytest.raises(McpCredentialsUnreadable):
        box.open("not a token at all")


def test_the_configured_key_seals_and_an_older_one_listed_after_it_still_opens(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = secret_box_for(_settings(tmp_path, key=old)).seal(CREDENTIALS)

    rotated = secret_box_for(_settings(tmp_path, key=f"{new},{old}"))

    assert rotated.open(sealed_before) == CREDENTIALS
    assert secret_box_for(_settings(tmp_path, key=new)).open(rotated.seal(CREDENTIALS)) == CREDENTIALS
    assert not (tmp_path / KEY_DIRECTORY).exists(), "a configured key keeps nothing in DATA_DIR"


def test_the_local_backend_generates_a_private_key_once_and_reuses_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = secret_box_for(_settings(data_dir))
    key_file = data_dir / KEY_DIRECTORY / KEY_FILE
    written = key_file.read_bytes()

    second = secret_box_for(_settings(data_dir))

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert key_file.read_bytes() == written
    assert second.open(first.seal(CREDENTIALS)) == CREDENTIALS


def test_a_damaged_key_file_stops_with_a_configuration_error(tmp_path: Path) -> None:
    secret_box_for(_settings(tmp_path))
    (tmp_path / KEY_DIRECTORY / KEY_FILE).write_bytes(b"garbage\n")

    with pytest.raises(ConfigurationError, match="damaged"):
        secret_box_for(_settings(tmp_path))


def test_the_dynamodb_backend_needs_the_key_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="MCP_SECRETS_KEY"):
        secret_box_for(_settings(tmp_path, backend=StorageBackend.DYNAMODB))

    key = Fernet.generate_key().decode()
    box = secret_box_for(_settings(tmp_path, backend=StorageBackend.DYNAMODB, key=key))
    assert box.open(box.seal(CREDENTIALS)) == CREDENTIALS


@pytest.mark.parametrize("key", ["short", "x" * 44, ","])
def test_a_key_that_is_not_a_fernet_key_is_a_configuration_error(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigurationError, match="Fernet key"):
        secret_box_for(_settings(tmp_path, key=key))
