"""Bedrock's live catalogue through the real boto3 client, against the loopback fake of Bedrock's control plane.

moto 5 does not implement ListFoundationModels (its server answers NotImplementedError), hence the fake.
"""

from __future__ import annotations

import pytest

from apis.shared.errors import ProviderError, ProviderUnavailableError, RuleViolation
from apis.shared.providers.listing import list_bedrock_models
from tests.fakes.bedrock_server import FakeBedrockState, bedrock_model
from tests.fakes.server import RunningFake, closed_port_url
from tests.shared.providers.listing_helpers import (
    FAKE_ACCESS_KEY_ID,
    assert_reported_without_sdk_text,
    provider_settings,
)

BedrockFake = RunningFake[FakeBedrockState]

CATALOGUE = [
    bedrock_model(
        "anthropic.claude-sonnet-4-20250514-v1:0",
        model_name="Claude Sonnet 4",
        inference_types=("INFERENCE_PROFILE",),
    ),
    bedrock_model(
        "anthropic.claude-3-haiku-20240307-v1:0",
        model_name="Claude 3 Haiku",
        inference_types=("ON_DEMAND", "PROVISIONED"),
        customizations=("FINE_TUNING",),
    ),
    bedrock_model(
        "amazon.titan-image-generator-v2:0",
        provider_name="Amazon",
        input_modalities=("TEXT", "IMAGE"),
        output_modalities=("IMAGE",),
        streaming=False,
    ),
    bedrock_model(
        "amazon.titan-embed-text-v2:0",
        provider_name="Amazon",
        input_modalities=("TEXT",),
        output_modalities=("EMBEDDING",),
        lifecycle_status="LEGACY",
    ),
    bedrock_model(
        "meta.llama3-8b-instruct-v1:0",
        provider_name="Meta",
        input_modalities=("TEXT",),
        inference_types=("ON_DEMAND", "PROVISIONED"),
        customizations=("FINE_TUNING", "CONTINUED_PRE_TRAINING"),
    ),
]


async def test_lists_the_catalogue_with_what_bedrock_says_of_each_model(bedrock_fake: BedrockFake) -> None:
    bedrock_fake.state.models = list(CATALOGUE)
    bedrock_fake.state.access_key_id = FAKE_ACCESS_KEY_ID

    listing = await list_bedrock_models(provider_settings(), region="us-west-2")

    assert [model.model_id for model in listing] == sorted(model["modelId"] for model in CATALOGUE)
    haiku = next(model for model in listing if model.model_id.startswith("anthropic.claude-3-haiku"))
    assert haiku.model_dump(by_alias=True) == {
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "modelName": "Claude 3 Haiku",
        "providerName": "Anthropic",
        # Bedrock's own words, upper case, as managed models spell them.
        "inputModalities": ["TEXT", "IMAGE"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": ["FINE_TUNING"],
        "inferenceTypesSupported": ["ON_DEMAND", "PROVISIONED"],
        "modelLifecycle": "ACTIVE",
    }
    embed = next(model for model in listing if model.model_id == "amazon.titan-embed-text-v2:0")
    assert (embed.output_modalities, embed.model_lifecycle) == (["EMBEDDING"], "LEGACY")
    image = next(model for model in listing if model.model_id == "amazon.titan-image-generator-v2:0")
    assert image.response_streaming_supported is False
    [request] = bedrock_fake.state.requests
    assert (request.method, request.path, request.query) == ("GET", "/foundation-models", {})
    # Signed with the environment's key for the region asked for.
    authorization = request.header("authorization") or ""
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={FAKE_ACCESS_KEY_ID}/")
    assert "/us-west-2/bedrock/aws4_request" in authorization


async def test_what_a_summary_leaves_out_is_null_or_empty_not_guessed(bedrock_fake: BedrockFake) -> None:
    # Only the ARN and the id are sure to be in a summary (botocore's FoundationModelSummary).
    model_id = "cohere.command-light-text-v14"
    bedrock_fake.state.models = [
        {"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}", "modelId": model_id}
    ]

    [model] = await list_bedrock_models(provider_settings(), region="us-east-1")

    assert model.model_dump(by_alias=True) == {
        "modelId": model_id,
        "modelName": model_id,
        "providerName": "",
        "inputModalities": [],
        "outputModalities": [],
        "responseStreamingSupported": None,
        "customizationsSupported": [],
        "inferenceTypesSupported": [],
        "modelLifecycle": None,
    }


async def test_bedrock_region_wins_over_the_region_argument(
    monkeypatch: pytest.MonkeyPatch, bedrock_fake: BedrockFake
) -> None:
    monkeypatch.setenv("BEDROCK_REGION", "eu-west-3")

    await list_bedrock_models(provider_settings(), region="us-west-2")

    assert "/eu-west-3/bedrock/aws4_request" in (bedrock_fake.state.requests[0].header("authorization") or "")


async def test_provider_and_modality_filters_reach_bedrock_and_apply(bedrock_fake: BedrockFake) -> None:
    bedrock_fake.state.models = list(CATALOGUE)

    listing = await list_bedrock_models(
        provider_settings(), region="us-east-1", by_provider="amazon", by_output_modality="image"
    )

    assert [model.model_id for model in listing] == ["amazon.titan-image-generator-v2:0"]
    # Bedrock spells its enumerations in upper case; the provider goes as given.
    assert bedrock_fake.state.requests[0].query == {"byProvider": ["amazon"], "byOutputModality": ["IMAGE"]}


async def test_inference_and_customization_filters_reach_bedrock_and_apply(bedrock_fake: BedrockFake) -> None:
    bedrock_fake.state.models = list(CATALOGUE)

    listing = await list_bedrock_models(
        provider_settings(),
        region="us-east-1",
        by_inference_type="PROVISIONED",
        by_customization_type="continued_pre_training",
    )

    assert [model.model_id for model in listing] == ["meta.llama3-8b-instruct-v1:0"]
    assert bedrock_fake.state.requests[0].query == {
        "byInferenceType": ["PROVISIONED"],
        "byCustomizationType": ["CONTINUED_PRE_TRAINING"],
    }


async def test_an_inference_type_bedrock_cannot_filter_by_is_applied_here(bedrock_fake: BedrockFake) -> None:
    bedrock_fake.state.models = list(CATALOGUE)

    listing = await list_bedrock_models(provider_settings(), region="us-east-1", by_inference_type="inference_profile")

    # ListFoundationModels accepts ON_DEMAND and PROVISIONED only; the summaries report INFERENCE_PROFILE too.
    assert [model.model_id for model in listing] == ["anthropic.claude-sonnet-4-20250514-v1:0"]
    assert bedrock_fake.state.requests[0].query == {}


async def test_a_filter_bedrock_refuses_is_400(caplog: pytest.LogCaptureFixture, bedrock_fake: BedrockFake) -> None:
    with pytest.raises(RuleViolation) as raised:
        await list_bedrock_models(provider_settings(), region="us-east-1", by_output_modality="hologram")

    assert raised.value.status_code == 400
    assert_reported_without_sdk_text(raised.value, caplog, "Value 'HOLOGRAM' at 'byOutputModality'")


async def test_without_aws_credentials_it_is_503_naming_them(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderUnavailableError) as raised:
        await list_bedrock_models(provider_settings(), region="us-east-1")

    assert raised.value.status_code == 503
    assert "AWS_ACCESS_KEY_ID" in raised.value.detail
    assert "AWS_PROFILE" in raised.value.detail


async def test_a_profile_that_does_not_exist_is_503_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")

    with pytest.raises(ProviderUnavailableError) as raised:
        await list_bedrock_models(provider_settings(), region="us-east-1")

    assert "AWS_PROFILE" in raised.value.detail


@pytest.mark.parametrize(("status", "attempts"), [(500, 2), (401, 1)])
async def test_an_error_answer_is_502_naming_bedrock_and_the_status(
    caplog: pytest.LogCaptureFixture, bedrock_fake: BedrockFake, status: int, attempts: int
) -> None:
    bedrock_fake.state.fail_status = status

    with pytest.raises(ProviderError) as raised:
        await list_bedrock_models(provider_settings(), region="us-east-1")

    assert type(raised.value) is ProviderError
    assert raised.value.status_code == 502
    assert "Bedrock" in raised.value.detail
    assert f"HTTP {status}" in raised.value.detail
    assert_reported_without_sdk_text(raised.value, caplog, f"the fake was told to fail with {status}")
    # A server error is retried once; a refusal is not.
    assert len(bedrock_fake.state.requests) == attempts


async def test_an_unknown_access_key_says_what_to_check(
    caplog: pytest.LogCaptureFixture, bedrock_fake: BedrockFake
) -> None:
    bedrock_fake.state.access_key_id = "AKIASOMEONEELSE"

    with pytest.raises(ProviderError) as raised:
        await list_bedrock_models(provider_settings(), region="us-east-1")

    assert raised.value.code == "provider_auth_failed"
    assert "AWS_ACCESS_KEY_ID" in raised.value.detail
    assert_reported_without_sdk_text(raised.value, caplog, "The security token included in the request is invalid")


async def test_a_closed_port_is_502_not_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", closed_port_url())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")

    with pytest.raises(ProviderError) as raised:
        await list_bedrock_models(provider_settings(), region="us-east-1")

    assert type(raised.value) is ProviderError
    assert raised.value.status_code == 502
    assert "Bedrock could not be reached" in raised.value.detail
