"""compose.yaml says what the image check proves (deploy/image_check/): no container engine here starts
containers normally, so `.ci/images` runs the same images the same way, and this keeps the file in step with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; the stubs are not a dependency

from apis.shared.config import StorageBackend, load_settings
from deploy.image_check.scenarios import EMBEDDED_SETTINGS, dynamodb_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = {"app": "deploy/app_api.Dockerfile", "inference": "deploy/inference_api.Dockerfile"}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def exposed_port(service: str) -> int:
    match = re.search(r"^EXPOSE (\d+)$", (ROOT / DOCKERFILES[service]).read_text(), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def resolved(environment: dict[str, str]) -> dict[str, str]:
    """The values as compose passes them with nothing set in the shell (`${NAME:-}` is empty)."""
    return {name: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value)) for name, value in environment.items()}


def test_the_default_services_share_one_volume_on_the_embedded_backend(services: dict[str, dict[str, Any]]) -> None:
    app, inference = services["app-api"], services["inference-api"]

    assert "profiles" not in app
    assert "profiles" not in inference
    assert app["build"]["dockerfile"] == DOCKERFILES["app"]
    assert inference["build"]["dockerfile"] == DOCKERFILES["inference"]
    assert app["environment"] == inference["environment"] == EMBEDDED_SETTINGS
    assert app["volumes"] == inference["volumes"] == ["data:/data"]
    assert app["ports"] == [f"{exposed_port('app')}:{exposed_port('app')}"]
    assert inference["ports"] == [f"{exposed_port('inference')}:{exposed_port('inference')}"]
    # The app API makes the signing key pair in the volume at its first start: the inference API starts after.
    assert inference["depends_on"] == {"app-api": {"condition": "service_healthy"}}


def test_the_dynamodb_profile_initialises_storage_then_starts_both(services: dict[str, dict[str, Any]]) -> None:
    profile = {name: service for name, service in services.items() if "dynamodb" in service.get("profiles", [])}

    assert sorted(profile) == ["app-api-dynamodb", "inference-api-dynamodb", "moto", "storage-init"]
    init, app, inference = profile["storage-init"], profile["app-api-dynamodb"], profile["inference-api-dynamodb"]
    assert init["command"] == ["colloquy", "storage", "init"]
    assert init["build"]["dockerfile"] == app["build"]["dockerfile"] == DOCKERFILES["app"]
    assert inference["build"]["dockerfile"] == DOCKERFILES["inference"]
    assert init["environment"] == app["environment"] == inference["environment"]
    assert sorted(app["environment"]) == sorted(dynamodb_settings("http://moto:5000", "x"))
    assert app["environment"]["AWS_ENDPOINT_URL"] == "http://moto:5000"
    assert init["volumes"] == app["volumes"] == inference["volumes"] == ["keys:/data"]
    assert app["depends_on"] == {"storage-init": {"condition": "service_completed_successfully"}}
    assert inference["depends_on"] == {"app-api-dynamodb": {"condition": "service_healthy"}}
    assert app["ports"] == [f"8001:{exposed_port('app')}"]
    assert inference["ports"] == [f"8081:{exposed_port('inference')}"]


@pytest.mark.parametrize("name", ["app-api", "app-api-dynamodb"])
def test_each_services_settings_are_valid(
    name: str, services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for key, value in resolved(services[name]["environment"]).items():
        monkeypatch.setenv(key, value)

    settings = load_settings()

    expected = StorageBackend.DYNAMODB if name.endswith("dynamodb") else StorageBackend.LOCAL
    assert settings.storage.storage_backend is expected
