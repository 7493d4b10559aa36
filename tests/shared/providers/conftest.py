"""A clean provider environment for every test here, and each provider's fake served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.bedrock_server import FakeBedrockState, running_bedrock
from tests.fakes.gemini_server import FakeGeminiState, running_gemini
from tests.fakes.openai_server import FakeOpenAIState, running_openai
from tests.fakes.server import RunningFake
from tests.shared.providers.listing_helpers import FAKE_ACCESS_KEY_ID

# Read by ProviderSettings or by the SDKs themselves: a developer's own keys must not reach a test.
PROVIDER_VARIABLES = (
    "BEDROCK_REGION",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_HTTP_CLIENT",
    "GOOGLE_GENAI_API_VERSION",
    "PROVIDER_TIMEOUT_SECONDS",
)
# Every place boto3's credential chain looks, and its endpoint overrides.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK",
)


@pytest.fixture(autouse=True)
def clean_provider_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No provider configured, no AWS credentials anywhere, and no instance metadata to ask."""
    for name in (*PROVIDER_VARIABLES, *AWS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def openai_fake() -> Iterator[RunningFake[FakeOpenAIState]]:
    with running_openai() as fake:
        yield fake


@pytest.fixture
def gemini_fake() -> Iterator[RunningFake[FakeGeminiState]]:
    with running_gemini() as fake:
        yield fake


@pytest.fixture
def bedrock_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningFake[FakeBedrockState]]:
    """The fake, with boto3 pointed at it and fake credentials in the environment."""
    with running_bedrock() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", fake.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
        yield fake
