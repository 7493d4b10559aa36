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

    assert [m["id"] for m in openai["models"]] == ["gpt-4o", "gpt-4o-mini"]
    assert [m["name"] for m in gemini["models"]] == ["gemini-2.5-pro"]
    assert [m["modelId"] for m in bedrock["models"]] == ["amazon.titan-y"]
    assert bedrock["totalCount"] == 1
    assert openai_fake.state.requests[-1].headers["authorization"] == "Bearer sk-fake"


async def test_bedrock_answers_in_the_shape_its_page_reads(
    configured: Services, bedrock_fake: RunningFake[FakeBedrockState]
) -> None:
    bedrock_fake.state.models = [
        bedrock_model(
            "anthropic.claude-3-haiku-20240307-v1:0",
            model_name="Claude 3 Haiku",
            inference_types=("ON_DEMAND", "PROVISIONED"),
            customizations=("FINE_TUNING",),
            lifecycle_status="LEGACY",
        ),
        # All a summary is sure to hold.
        {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/zz.bare-v1:0", "modelId": "zz.bare-v1:0"},
    ]

    response = await configured.app.get("/admin/bedrock/models", headers=configured.auth_as("root", roles=["admin"]))

    assert response.status_code == 200
    body = response.json()
    assert (body["totalCount"], body["nextToken"], body["configured"]) == (2, None, True)
    assert body["models"] == [
        {
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "modelName": "Claude 3 Haiku",
            "providerName": "Anthropic",
            "inputModalities": ["TEXT", "IMAGE"],
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": True,
            "customizationsSupported": ["FINE_TUNING"],
            "inferenceTypesSupported": ["ON_DEMAND", "PROVISIONED"],
            "modelLifecycle": "LEGACY",
        },
        {
            "modelId": "zz.bare-v1:0",
            "modelName": "zz.bare-v1:0",
            "providerName": "",
            # Lists the page counts stay lists; what Bedrock did not say is null.
            "inputModalities": [],
            "outputModalities": [],
            "responseStreamingSupported": None,
            "customizationsSupported": [],
            "inferenceTypesSupported": [],
            "modelLifecycle": None,
        },
    ]


async def test_openai_answers_in_the_shape_its_page_reads(
    configured: Services, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    openai_fake.state.models = [
        openai_model("gpt-4o-mini", owned_by="system", created=1_721_172_741),
        {"id": "qwen3:8b", "object": "model"},
    ]

    response = await configured.app.get("/admin/openai/models", headers=configured.auth_as("root", roles=["admin"]))

    assert response.status_code == 200
    assert response.json()["models"] == [
        # `created` in Unix seconds: the page multiplies it by 1000 to make a date.
        {"id": "gpt-4o-mini", "created": 1_721_172_741, "ownedBy": "system", "object": "model"},
        {"id": "qwen3:8b", "created": None, "ownedBy": None, "object": "model"},
    ]
    assert response.json()["totalCount"] == 2


async def test_gemini_answers_in_the_shape_its_page_reads(
    configured: Services, gemini_fake: RunningFake[FakeGeminiState]
) -> None:
    gemini_fake.state.models = [
        gemini_model("gemini-2.5-pro", display_name="Gemini 2.5 Pro", thinking=True),
        {
            "name": "models/gemma-3-27b-it",
            "displayName": "Gemma 3 27B",
            "supportedGenerationMethods": ["generateContent"],
        },
    ]

    response = await configured.app.get("/admin/gemini/models", headers=configured.auth_as("root", roles=["admin"]))

    assert response.status_code == 200
    [pro, gemma] = response.json()["models"]
    assert pro == {
        "name": "gemini-2.5-pro",
        "baseModelId": None,
        "version": "001",
        "displayName": "Gemini 2.5 Pro",
        "description": "The fake's gemini-2.5-pro.",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
        "thinking": True,
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
    }
    # Sent as null, not left out: the page shows its sampling box for any of them that is not null.
    assert gemma == {
        "name": "gemma-3-27b-it",
        "baseModelId": None,
        "version": None,
        "displayName": "Gemma 3 27B",
        "description": None,
        "inputTokenLimit": None,
        "outputTokenLimit": None,
        "supportedGenerationMethods": ["generateContent"],
        "thinking": None,
        "temperature": None,
        "maxTemperature": None,
        "topP": None,
        "topK": None,
    }


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

    assert [m["id"] for m in limited.json()["models"]] == ["gpt-4o", "gpt-4o-mini"]
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
