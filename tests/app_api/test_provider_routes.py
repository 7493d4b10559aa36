"""The admin provider catalogue routes through HTTP, with each provider's fake (or nothing) behind them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.bedrock_server import FakeBedrockState, bedrock_model
from tests.fakes.gemini_server import FakeGeminiState, gemini_model
from tests.fakes.openai_server import FakeOpenAIState, openai_model
from tests.fakes.server import RunningFake
from tests.fixtures.providers import providers_on_fakes
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings


@pytest.fixture
async def configured(
    tmp_path: Path,
    no_provider_environment: None,
    openai_fake: RunningFake[FakeOpenAIState],
    gemini_fake: RunningFake[FakeGeminiState],
    bedrock_fake: RunningFake[FakeBedrockState],
) -> AsyncIterator[Services]:
    """Both services with all three providers configured, each pointing at its fake on loopback."""
    providers = providers_on_fakes(openai_fake, gemini_fake, timeout_seconds=5.0)
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(update={"providers": providers})
    async with open_services(settings) as services:
        yield services


async def test_each_catalogue_lists_through_its_sdk(
    configured: Services,
    openai_fake: RunningFake[FakeOpenAIState],
    gemini_fake: RunningFake[FakeGeminiState],
    bedrock_fake: RunningFake[FakeBedrockState],
) -> None:
    openai_fake.state.models = [openai_model("gpt-4o"), openai_model("gpt-4o-mini")]
    gemini_fake.state.models = [
        gemini_model("gemini-2.5-pro"),
        gemini_model("embedding-1", methods=["embedContent"]),
    ]
    bedrock_fake.state.models = [
        bedrock_model("anthropic.claude-x"),
        bedrock_model("amazon.titan-y", provider_name="Amazon"),
    ]
    admin = configured.auth_as("root", roles=["admin"])

    openai = (await configured.app.get("/admin/openai/models", headers=admin)).json()
    gemini = (await configured.app.get("/admin/gemini/models", headers=admin)).json()
    bedrock = (await configured.app.get("/admin/bedrock/models", params={"byProvider": "Amazon"}, headers=admin)).json()

    assert [m["modelId"] for m in openai["models"]] == ["gpt-4o", "gpt-4o-mini"]
    assert [m["modelId"] for m in gemini["models"]] == ["gemini-2.5-pro"]
    assert [m["modelId"] for m in bedrock["models"]] == ["amazon.titan-y"]
    assert bedrock["totalCount"] == 1
    assert openai_fake.state.requests[-1].headers["authorization"] == "Bearer sk-fake"


@pytest.mark.parametrize("provider", ["openai", "gemini", "bedrock"])
async def test_a_failing_provider_is_502(
    configured: Services,
    openai_fake: RunningFake[FakeOpenAIState],
    gemini_fake: RunningFake[FakeGeminiState],
    bedrock_fake: RunningFake[FakeBedrockState],
    provider: str,
) -> None:
    fakes: dict[str, RunningFake[FakeOpenAIState] | RunningFake[FakeGeminiState] | RunningFake[FakeBedrockState]] = {
        "openai": openai_fake,
        "gemini": gemini_fake,
        "bedrock": bedrock_fake,
    }
    fakes[provider].state.fail_status = 500

    response = await configured.app.get(
        f"/admin/{provider}/models", headers=configured.auth_as("root", roles=["admin"])
    )

    assert response.status_code == 502
    assert response.json()["code"].startswith("provider")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("provider", "setting"), [("openai", "OPENAI_API_KEY"), ("gemini", "GEMINI_API_KEY"), ("bedrock", "AWS")]
)
async def test_an_unconfigured_provider_is_an_empty_catalogue_naming_its_setting(
    local_services: Services, no_provider_environment: None, provider: str, setting: str
) -> None:
    """Not an error: the reference client's three pages show any error of these routes as an unreadable string
    (Bedrock's never leaves "Loading models..."), and an empty catalogue as "No models found"."""
    response = await local_services.app.get(
        f"/admin/{provider}/models", headers=local_services.auth_as("root", roles=["admin"])
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["models"], body["totalCount"], body["provider"], body["configured"]) == ([], 0, provider, False)
    assert setting in body["message"]


async def test_the_reference_clients_snake_case_parameters_filter_and_limit(
    configured: Services,
    openai_fake: RunningFake[FakeOpenAIState],
    bedrock_fake: RunningFake[FakeBedrockState],
) -> None:
    openai_fake.state.models = [openai_model("gpt-4o"), openai_model("gpt-4o-mini"), openai_model("o3")]
    bedrock_fake.state.models = [
        bedrock_model("anthropic.claude-x"),
        bedrock_model("amazon.titan-y", provider_name="Amazon"),
    ]
    admin = configured.auth_as("root", roles=["admin"])

    limited = await configured.app.get("/admin/openai/models", params={"max_results": 2}, headers=admin)
    filtered = await configured.app.get(
        "/admin/bedrock/models", params={"by_provider": "Amazon", "by_output_modality": "text"}, headers=admin
    )

    assert [m["modelId"] for m in limited.json()["models"]] == ["gpt-4o", "gpt-4o-mini"]
    assert (limited.json()["totalCount"], limited.json()["configured"]) == (2, True)
    # The fake, as Bedrock, refuses a modality not spelt in capitals.
    assert [m["modelId"] for m in filtered.json()["models"]] == ["amazon.titan-y"], filtered.text


async def test_a_bad_bedrock_filter_is_422(local_services: Services) -> None:
    response = await local_services.app.get(
        "/admin/bedrock/models",
        params={"byOutputModality": "SMELL"},
        headers=local_services.auth_as("root", roles=["admin"]),
    )

    assert response.status_code == 422
