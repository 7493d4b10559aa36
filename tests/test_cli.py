"""The `colloquy` command: storage init, token minting, and refusing bad settings with a named variable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import jwt
import pytest

from apis.shared.auth import build_token_validator
from apis.shared.cli import main
from apis.shared.config import load_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.delenv("AUTH_MODE", raising=False)
    return tmp_path / "data"


def test_storage_init_is_idempotent(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["storage", "init"]) == 0
    first = capsys.readouterr().out
    assert main(["storage", "init"]) == 0
    second = capsys.readouterr().out

    assert "migration 1" in first
    assert "applied" in first
    assert "up to date" in second
    assert (data_dir / "colloquy.sqlite3").exists()


def test_token_prints_a_token_the_services_accept(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["token", "--user", "alice", "--email", "alice@example.com", "--name", "Alice", "--roles", "admin, staff"]
    )
    token = capsys.readouterr().out.strip()

    user = asyncio.run(build_token_validator(load_settings()).validate(token))

    assert code == 0
    assert (user.user_id, user.email, user.name, user.roles) == (
        "alice",
        "alice@example.com",
        "Alice",
        ("admin", "staff"),
    )


def test_token_refuses_oidc_mode(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("OIDC_ISSUER", "https://issuer.example")
    monkeypatch.setenv("OIDC_AUDIENCE", "colloquy")

    assert main(["token", "--user", "alice"]) == 2
    assert "AUTH_MODE=local" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("STORAGE_BACKEND", "floppy", "STORAGE_BACKEND"),
        ("SQLITE_BUSY_TIMEOUT_MS", "-5", "SQLITE_BUSY_TIMEOUT_MS"),
        ("AUTH_MODE", "none", "AUTH_MODE"),
        ("AUTH_MODE", "oidc", "OIDC_ISSUER"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("CORS_ALLOWED_ORIGINS", "http://localhost:4200/", "CORS_ALLOWED_ORIGINS"),
    ],
)
def test_a_bad_setting_stops_with_its_name(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    named: str,
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SystemExit) as stopped:
        main(["storage", "init"])

    assert stopped.value.code == 2
    assert named in capsys.readouterr().err


def test_port_without_a_service_is_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "9000"]) == 2
    assert "service name" in capsys.readouterr().err


def test_token_with_a_bad_lifetime_is_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--user", "alice", "--ttl", "0"]) == 2
    assert "at least one second" in capsys.readouterr().err


EMPLOYEE_NUMBER = "http://schemas.boisestate.edu/claims/employeenumber"


def test_token_carries_extra_claims_for_a_client_that_wants_them(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "token",
            "--user",
            "alice",
            "--email",
            "alice@example.com",
            "--roles",
            "Admin",
            "--claim",
            f"{EMPLOYEE_NUMBER}=012345678",
            "--claim",
            "given_name=Alice",
            "--claim",
            "level:=3",
            "--claim",
            'groups:=["staff", "faculty"]',
            "--claim",
            "note=a=b",
        ]
    )
    token = capsys.readouterr().out.strip()

    user = asyncio.run(build_token_validator(load_settings()).validate(token))
    claims = jwt.decode(token, options={"verify_signature": False})

    assert code == 0
    assert (user.user_id, user.roles) == ("alice", ("Admin",))
    assert claims[EMPLOYEE_NUMBER] == "012345678"  # a string, leading zero kept
    assert (claims["given_name"], claims["level"], claims["groups"], claims["note"]) == (
        "Alice",
        3,
        ["staff", "faculty"],
        "a=b",
    )


@pytest.mark.parametrize(
    ("claim", "says"),
    [
        ("sub=mallory", "replace sub"),
        ('roles:=["admin"]', "replace roles"),
        ("email=x@example.com", "replace email"),
        ("exp:=9999999999", "replace exp"),
        ("no-equals-sign", "NAME=VALUE"),
        ("=value", "NAME=VALUE"),
        ("count:=not json", "needs a JSON value"),
    ],
)
def test_a_claim_that_would_replace_the_tokens_own_or_cannot_be_read_is_refused(
    data_dir: Path, capsys: pytest.CaptureFixture[str], claim: str, says: str
) -> None:
    try:
        code = main(["token", "--user", "alice", "--claim", claim])
    except SystemExit as stopped:  # argparse refuses what it cannot read
        code = int(str(stopped.code))
    captured = capsys.readouterr()

    assert code == 2
    assert captured.out == ""
    assert says in captured.err
