"""OpenAI's live catalogue through the real openai SDK, against the loopback fake of the OpenAI API."""

from __future__ import annotations

import pytest

from apis.shared.errors import ProviderError, ProviderUnavailableError
from apis.shared.providers.listing import list_openai_models
from tests.fakes.openai_server import DEFAULT_CREATED, FakeOpenAIState, openai_model
from tests.fakes.server import RunningFake, closed_port_url
from tests.shared.providers.listing_helpers import assert_reported_without_sdk_text, provider_settings

OpenAIFake = RunningFake[FakeOpenAIState]


def configure(monkeypatch: pytest.MonkeyPatch, fake: OpenAIFake, *, api_key: str | None = "sk-test-key") -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    if api_key is not None:
        monkeypatch.setenv("OPENAI_API_KEY", api_key)


async def test_lists_every_model_with_what_openai_says_of_it(
    monkeypatch: pytest.MonkeyPatch, openai_fake: OpenAIFake
) -> None:
    openai_fake.state.api_key = "sk-test-key"
    openai_fake.state.models = [
        openai_model("gpt-4o-mini", owned_by="system", created=1_721_172_741),
        openai_model("gpt-4o", owned_by="system"),
        openai_model("ft:gpt-4o-mini:acme::abc123", owned_by="acme"),
    ]
    configure(monkeypatch, openai_fake)

    listing = await list_openai_models(provider_settings())

    assert [model.id for model in listing] == ["ft:gpt-4o-mini:acme::abc123", "gpt-4o", "gpt-4o-mini"]
    # As OpenAI says it: the creation time in Unix seconds, which the reference client formats.
    assert listing[2].model_dump(by_alias=True) == {
        "id": "gpt-4o-mini",
        "created": 1_721_172_741,
        "ownedBy": "system",
        "object": "model",
    }
    [request] = openai_fake.state.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.header("authorization") == "Bearer sk-test-key"


async def test_a_compatible_server_needs_only_its_base_url(
    monkeypatch: pytest.MonkeyPatch, openai_fake: OpenAIFake
) -> None:
    openai_fake.state.models = [
        openai_model("llama3.2:latest", owned_by="library"),
        # Some compatible servers send no more than this.
        {"id": "qwen3:8b", "object": "model"},
    ]
    configure(monkeypatch, openai_fake, api_key=None)

    listing = await list_openai_models(provider_settings())

    assert [model.id for model in listing] == ["llama3.2:latest", "qwen3:8b"]
    assert (listing[0].owned_by, listing[0].created) == ("library", DEFAULT_CREATED)
    # What the server leaves out is null, not guessed.
    assert (listing[1].owned_by, listing[1].created, listing[1].object) == (None, None, "model")
    # The SDK insists on a key; a placeholder stands in for the one a local server does not need.
    assert openai_fake.state.requests[0].header("authorization") == "Bearer not-needed"


async def test_values_of_another_type_are_null(monkeypatch: pytest.MonkeyPatch, openai_fake: OpenAIFake) -> None:
    """The SDK passes on whatever a server sent; the page formats `created` as Unix seconds."""
    openai_fake.state.models = [
        {"id": "mistral", "object": "model", "created": "2024-07-16", "owned_by": 7},
        {"id": "phi4", "object": "model", "created": True, "owned_by": None},
    ]
    configure(monkeypatch, openai_fake)

    listing = await list_openai_models(provider_settings())

    assert [(model.created, model.owned_by) for model in listing] == [(None, None), (None, None)]


async def test_without_a_key_or_a_base_url_it_is_503_naming_both() -> None:
    with pytest.raises(ProviderUnavailableError) as raised:
        await list_openai_models(provider_settings())

    assert raised.value.status_code == 503
    assert "OPENAI_API_KEY" in raised.value.detail
    assert "OPENAI_BASE_URL" in raised.value.detail


@pytest.mark.parametrize(("status", "attempts"), [(500, 2), (401, 1)])
async def test_an_error_answer_is_502_naming_openai_and_the_status(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    openai_fake: OpenAIFake,
    status: int,
    attempts: int,
) -> None:
    openai_fake.state.fail_status = status
    configure(monkeypatch, openai_fake)

    with pytest.raises(ProviderError) as raised:
        await list_openai_models(provider_settings())

    assert type(raised.value) is ProviderError
    assert raised.value.status_code == 502
    assert "OpenAI" in raised.value.detail
    assert f"HTTP {status}" in raised.value.detail
    assert_reported_without_sdk_text(raised.value, caplog, f"the fake was told to fail with {status}")
    # A server error is retried once; a refusal is not.
    assert len(openai_fake.state.requests) == attempts


async def test_a_refused_key_says_which_setting_to_check(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, openai_fake: OpenAIFake
) -> None:
    openai_fake.state.api_key = "sk-the-right-key"
    configure(monkeypatch, openai_fake, api_key="sk-a-wrong-key")

    with pytest.raises(ProviderError) as raised:
        await list_openai_models(provider_settings())

    assert raised.value.status_code == 502
    assert raised.value.code == "provider_auth_failed"
    assert "HTTP 401" in raised.value.detail
    assert "OPENAI_API_KEY" in raised.value.detail
    assert_reported_without_sdk_text(raised.value, caplog, "Incorrect API key provided.")


async def test_a_closed_port_is_502_not_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{closed_port_url()}/v1")

    with pytest.raises(ProviderError) as raised:
        await list_openai_models(provider_settings())

    assert type(raised.value) is ProviderError
    assert raised.value.status_code == 502
    assert "could not be reached" in raised.value.detail
