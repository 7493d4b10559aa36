"""Gemini's live catalogue through the real google-genai SDK, against the loopback fake of the Gemini API."""

from __future__ import annotations

import pytest

from apis.shared.errors import ProviderError, ProviderUnavailableError
from apis.shared.providers.listing import list_gemini_models
from tests.fakes.gemini_server import EMBEDDING_METHODS, FakeGeminiState, gemini_model
from tests.fakes.server import RunningFake, closed_port_url
from tests.shared.providers.listing_helpers import assert_reported_without_sdk_text, provider_settings

GeminiFake = RunningFake[FakeGeminiState]


def configure(monkeypatch: pytest.MonkeyPatch, fake: GeminiFake, *, api_key: str = "gemini-test-key") -> None:
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("GEMINI_API_KEY", api_key)


async def test_keeps_the_chat_models_of_every_page(monkeypatch: pytest.MonkeyPatch, gemini_fake: GeminiFake) -> None:
    gemini_fake.state.page_size_limit = 2
    gemini_fake.state.models = [
        gemini_model("gemini-2.5-pro", display_name="Gemini 2.5 Pro", output_token_limit=65_536, thinking=True),
        gemini_model("gemini-embedding-001", methods=EMBEDDING_METHODS, input_token_limit=2048),
        gemini_model("gemini-2.0-flash", display_name="Gemini 2.0 Flash", output_token_limit=8192),
        gemini_model("text-embedding-004", methods=EMBEDDING_METHODS),
        gemini_model("gemini-2.5-flash-lite", input_token_limit=1_000_000, output_token_limit=64_000),
    ]
    configure(monkeypatch, gemini_fake)

    listing = await list_gemini_models(provider_settings())

    assert [model.name for model in listing] == ["gemini-2.0-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro"]
    flash, lite, pro = listing
    assert pro.model_dump(by_alias=True) == {
        # The id a turn names the model by, without the resource prefix `models/`.
        "name": "gemini-2.5-pro",
        # google-genai does not carry the API's baseModelId.
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
    assert (flash.display_name, flash.output_token_limit, flash.thinking) == ("Gemini 2.0 Flash", 8192, None)
    assert (lite.input_token_limit, lite.output_token_limit) == (1_000_000, 64_000)
    # Three pages of two, each asked with the token the page before it gave.
    requests = gemini_fake.state.requests
    assert [request.path for request in requests] == ["/v1beta/models"] * 3
    assert "pageToken" not in requests[0].query
    assert requests[1].query["pageToken"] != requests[2].query["pageToken"]


async def test_what_the_api_leaves_out_is_null_not_guessed(
    monkeypatch: pytest.MonkeyPatch, gemini_fake: GeminiFake
) -> None:
    # Gemini describes some models without sampling defaults, a version or a description.
    gemini_fake.state.models = [{"name": "models/gemma-3-27b-it", "supportedGenerationMethods": ["generateContent"]}]
    configure(monkeypatch, gemini_fake)

    [model] = await list_gemini_models(provider_settings())

    assert model.model_dump(by_alias=True) == {
        "name": "gemma-3-27b-it",
        "baseModelId": None,
        "version": None,
        # The page searches the display name: the id stands in for a missing one.
        "displayName": "gemma-3-27b-it",
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


async def test_sends_the_api_key_in_googles_header(monkeypatch: pytest.MonkeyPatch, gemini_fake: GeminiFake) -> None:
    gemini_fake.state.api_key = "gemini-test-key"
    gemini_fake.state.models = [gemini_model("gemini-2.5-flash")]
    configure(monkeypatch, gemini_fake)

    listing = await list_gemini_models(provider_settings())

    assert [model.name for model in listing] == ["gemini-2.5-flash"]
    [request] = gemini_fake.state.requests
    assert request.header("x-goog-api-key") == "gemini-test-key"


async def test_google_api_key_configures_gemini_too(monkeypatch: pytest.MonkeyPatch, gemini_fake: GeminiFake) -> None:
    gemini_fake.state.models = [gemini_model("gemini-2.5-flash")]
    monkeypatch.setenv("GEMINI_BASE_URL", gemini_fake.url)
    monkeypatch.setenv("GOOGLE_API_KEY", "google-test-key")

    listing = await list_gemini_models(provider_settings())

    assert len(listing) == 1
    assert gemini_fake.state.requests[0].header("x-goog-api-key") == "google-test-key"


async def test_without_a_key_it_is_503_naming_the_setting(gemini_fake: GeminiFake) -> None:
    with pytest.raises(ProviderUnavailableError) as raised:
        await list_gemini_models(provider_settings())

    assert raised.value.status_code == 503
    assert "GEMINI_API_KEY" in raised.value.detail
    assert gemini_fake.state.requests == []


@pytest.mark.parametrize(("status", "attempts"), [(500, 2), (401, 1)])
async def test_an_error_answer_is_502_naming_gemini_and_the_status(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    gemini_fake: GeminiFake,
    status: int,
    attempts: int,
) -> None:
    gemini_fake.state.fail_status = status
    configure(monkeypatch, gemini_fake)

    with pytest.raises(ProviderError) as raised:
        await list_gemini_models(provider_settings())

    assert type(raised.value) is ProviderError
    assert raised.value.status_code == 502
    assert "Gemini" in raised.value.detail
    assert f"HTTP {status}" in raised.value.detail
    assert_reported_without_sdk_text(raised.value, caplog, f"the fake was told to fail with {status}")
    # A server error is retried once; a refusal is not.
    assert len(gemini_fake.state.requests) == attempts


async def test_an_invalid_key_says_which_setting_to_check(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, gemini_fake: GeminiFake
) -> None:
    gemini_fake.state.api_key = "the-right-key"
    configure(monkeypatch, gemini_fake, api_key="a-wrong-key")

    with pytest.raises(ProviderError) as raised:
        await list_gemini_models(provider_settings())

    # Google answers a bad key with 400 API_KEY_INVALID, not 401.
    assert raised.value.status_code == 502
    assert raised.value.code == "provider_auth_failed"
    assert "HTTP 400" in raised.value.detail
    assert "GEMINI_API_KEY" in raised.value.detail
    assert_reported_without_sdk_text(raised.value, caplog, "API key not valid")


async def test_a_closed_port_is_502_not_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_BASE_URL", closed_port_url())
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-key")

    with pytest.raises(ProviderError) as raised:
        await list_gemini_models(provider_settings())

    assert type(raised.value) is ProviderError
    assert raised.value.status_code == 502
    assert "Gemini could not be reached" in raised.value.detail
