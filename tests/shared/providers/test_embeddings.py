"""Knowledge-base embeddings through each provider's real SDK, against its fake on loopback.

Batching, dimensions, task types, the SDKs' retries and what is left when they are spent, answers that are not
the vectors asked for, and the settings each provider needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest
from prometheus_client import REGISTRY

from apis.shared.assistants import Embedder
from apis.shared.config import EmbeddingProvider, KnowledgeSettings, ProviderSettings
from apis.shared.errors import ConfigurationError, ProviderError, ProviderUnavailableError
from apis.shared.providers import ProviderEmbedder, build_embedder
from apis.shared.providers.embeddings import EMBEDDING_ATTEMPTS
from apis.shared.providers.embeddings.bedrock import CONCURRENCY
from tests.fakes.bedrock_server import FakeBedrockState
from tests.fakes.embedding_vectors import EmbeddingScript, cosine, fake_embedding
from tests.fakes.gemini_server import FakeGeminiState
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.server import RunningFake, closed_port_url

REGION = "us-east-1"
SCRIPTED_TEXT = "the fake was told to fail"
TEXTS = [f"passage {number} about topic{number % 7} and subject{number % 5}" for number in range(70)]


def knowledge(provider: EmbeddingProvider, **fields: Any) -> KnowledgeSettings:
    return KnowledgeSettings(_env_file=None, embedding_provider=provider, **fields)


def openai_settings(fake: RunningFake[FakeOpenAIState]) -> ProviderSettings:
    return ProviderSettings.model_construct(
        openai_api_key="sk-fake", openai_base_url=fake.url, provider_timeout_seconds=5.0
    )


def gemini_settings(fake: RunningFake[FakeGeminiState]) -> ProviderSettings:
    return ProviderSettings.model_construct(
        gemini_api_key="gemini-fake", gemini_base_url=fake.url, provider_timeout_seconds=5.0
    )


@asynccontextmanager
async def opened(
    settings: KnowledgeSettings, providers: ProviderSettings, *, attempts: int = EMBEDDING_ATTEMPTS
) -> AsyncIterator[ProviderEmbedder]:
    """The embedder the settings name, closed at the end of the block."""
    embedder = build_embedder(settings, providers, region=REGION, attempts=attempts)
    assert embedder is not None
    try:
        yield embedder
    finally:
        await embedder.aclose()


def assert_vectors_of(vectors: list[list[float]], texts: list[str], dimensions: int) -> None:
    """`vectors` are the fake model's for `texts`, in order, each of unit length."""
    assert len(vectors) == len(texts)
    for vector, text in zip(vectors, texts, strict=True):
        assert len(vector) == dimensions
        assert all(isinstance(value, float) for value in vector)
        assert vector == pytest.approx(fake_embedding(text, dimensions), abs=1e-6)


def embedding_calls(provider: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "colloquy_embedding_call_seconds_count", {"provider": provider, "outcome": outcome}
    )
    return value or 0.0


# Choosing and configuring ----------------------------------------------------------------------------------------


def test_provider_none_builds_no_embedder() -> None:
    assert build_embedder(knowledge(EmbeddingProvider.NONE), ProviderSettings.model_construct(), region=REGION) is None


@pytest.mark.parametrize(
    ("provider", "setting"),
    [
        (EmbeddingProvider.OPENAI, "OPENAI_API_KEY"),
        (EmbeddingProvider.GEMINI, "GEMINI_API_KEY"),
        (EmbeddingProvider.BEDROCK, "AWS credentials"),
    ],
)
def test_a_provider_that_is_not_configured_is_a_configuration_error_naming_the_setting(
    provider: EmbeddingProvider, setting: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        build_embedder(knowledge(provider), ProviderSettings.model_construct(), region=REGION)

    assert setting in raised.value.detail
    assert f"EMBEDDING_PROVIDER={provider.value}" in raised.value.detail


@pytest.mark.parametrize("dimensions", [128, 768, 1536])
def test_titan_takes_256_512_or_1024_dimensions_only(
    bedrock_fake: RunningFake[FakeBedrockState], dimensions: int
) -> None:
    settings = knowledge(EmbeddingProvider.BEDROCK, embedding_dimensions=dimensions)

    with pytest.raises(ConfigurationError) as raised:
        build_embedder(settings, ProviderSettings.model_construct(), region=REGION)

    assert "EMBEDDING_DIMENSIONS" in raised.value.detail
    assert "256, 512 or 1024" in raised.value.detail


@pytest.mark.parametrize(
    ("provider", "model_id", "dimensions"),
    [
        (EmbeddingProvider.OPENAI, None, 2048),  # text-embedding-3-small: at most 1536
        (EmbeddingProvider.GEMINI, None, 64),  # gemini-embedding-001: 128 to 3072
    ],
)
def test_dimensions_a_known_model_cannot_give_are_a_configuration_error(
    provider: EmbeddingProvider, model_id: str | None, dimensions: int
) -> None:
    providers = ProviderSettings.model_construct(openai_api_key="sk-fake", gemini_api_key="gemini-fake")
    settings = knowledge(provider, embedding_model_id=model_id, embedding_dimensions=dimensions)

    with pytest.raises(ConfigurationError, match="EMBEDDING_DIMENSIONS"):
        build_embedder(settings, providers, region=REGION)


async def test_an_embedder_is_the_knowledge_base_port_and_names_its_default_model(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    async with opened(
        knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=512), openai_settings(openai_fake)
    ) as built:
        embedder: Embedder = built

        assert embedder.model_id == "text-embedding-3-small"
        assert embedder.dimensions == 512


# OpenAI and compatible servers -----------------------------------------------------------------------------------


async def test_openai_embeds_in_batches_of_the_batch_size_asking_for_floats_of_the_dimensions(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    settings = knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256, embedding_batch_size=32)
    before = embedding_calls("openai", "ok")

    async with opened(settings, openai_settings(openai_fake)) as embedder:
        vectors = await embedder.embed_documents(TEXTS)

    assert_vectors_of(vectors, TEXTS, 256)
    calls = openai_fake.state.embeddings.calls
    assert [len(call.texts) for call in calls] == [32, 32, 6]
    assert [text for call in calls for text in call.texts] == TEXTS
    assert {(call.model, call.dimensions) for call in calls} == {("text-embedding-3-small", 256)}
    bodies = [request.json for request in openai_fake.state.requests if request.path == "/v1/embeddings"]
    assert {body["encoding_format"] for body in bodies} == {"float"}
    assert embedding_calls("openai", "ok") == before + 3


async def test_openai_embeds_a_query_alone(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    async with opened(
        knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256), openai_settings(openai_fake)
    ) as embedder:
        vector = await embedder.embed_query("how are deployments built?")

    assert_vectors_of([vector], ["how are deployments built?"], 256)
    assert [call.texts for call in openai_fake.state.embeddings.calls] == [["how are deployments built?"]]


async def test_a_compatible_servers_model_is_not_sent_dimensions_and_must_answer_the_configured_size(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    # The fake's unknown models answer 768 dimensions, as nomic-embed-text does on Ollama.
    settings = knowledge(EmbeddingProvider.OPENAI, embedding_model_id="nomic-embed-text", embedding_dimensions=768)

    async with opened(settings, openai_settings(openai_fake)) as embedder:
        vectors = await embedder.embed_documents(["one text", "another text"])

    assert_vectors_of(vectors, ["one text", "another text"], 768)
    body = openai_fake.state.requests[-1].json
    assert "dimensions" not in body


async def test_a_model_answering_another_size_is_a_provider_error_saying_which(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    settings = knowledge(EmbeddingProvider.OPENAI, embedding_model_id="nomic-embed-text", embedding_dimensions=1024)

    async with opened(settings, openai_settings(openai_fake)) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(["one text"])

    assert type(raised.value) is ProviderError
    assert raised.value.code == "embedding_dimensions_mismatch"
    assert "768" in raised.value.detail
    assert "EMBEDDING_DIMENSIONS is 1024" in raised.value.detail


async def test_openai_retries_throttling_and_server_errors_then_answers(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    openai_fake.state.embeddings.fail_next(429, 500)

    async with opened(
        knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256), openai_settings(openai_fake)
    ) as embedder:
        vectors = await embedder.embed_documents(["retried text"])

    assert_vectors_of(vectors, ["retried text"], 256)
    assert [call.failed_with for call in openai_fake.state.embeddings.calls] == [429, 500, None]


async def test_openai_failing_past_the_attempts_is_unavailable_without_the_sdks_text(
    openai_fake: RunningFake[FakeOpenAIState], caplog: pytest.LogCaptureFixture
) -> None:
    openai_fake.state.embeddings.fail_next(*[503] * 5)
    before = embedding_calls("openai", "error")

    async with opened(
        knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256), openai_settings(openai_fake), attempts=2
    ) as embedder:
        with pytest.raises(ProviderUnavailableError) as raised:
            await embedder.embed_documents(["never embedded"])

    assert len(openai_fake.state.embeddings.calls) == 2
    assert raised.value.code == "provider_unavailable"
    assert "HTTP 503" in raised.value.detail
    assert SCRIPTED_TEXT not in raised.value.detail
    assert any(SCRIPTED_TEXT in str(record.exc_info[1]) for record in caplog.records if record.exc_info)
    assert embedding_calls("openai", "error") == before + 1


async def test_openai_refusing_the_key_is_a_provider_error_at_once(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    openai_fake.state.api_key = "sk-another"

    async with opened(
        knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256), openai_settings(openai_fake)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(["refused"])

    assert not isinstance(raised.value, ProviderUnavailableError)
    assert raised.value.code == "provider_auth_failed"
    assert "OPENAI_API_KEY" in raised.value.detail
    assert len([request for request in openai_fake.state.requests if request.path == "/v1/embeddings"]) == 1


async def test_an_unreachable_server_is_unavailable() -> None:
    providers = ProviderSettings.model_construct(openai_base_url=closed_port_url(), provider_timeout_seconds=5.0)

    async with opened(knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256), providers, attempts=1) as embedder:
        with pytest.raises(ProviderUnavailableError) as raised:
            await embedder.embed_documents(["nobody listens"])

    assert raised.value.code == "provider_unreachable"


async def test_fewer_vectors_than_texts_is_a_provider_error(openai_fake: RunningFake[FakeOpenAIState]) -> None:
    openai_fake.state.embeddings.fewer_vectors = 1

    async with opened(
        knowledge(EmbeddingProvider.OPENAI, embedding_dimensions=256), openai_settings(openai_fake)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(["first", "second", "third"])

    assert type(raised.value) is ProviderError
    assert raised.value.code == "embedding_response_invalid"
    assert "2 embeddings for 3 texts" in raised.value.detail


async def test_the_openai_fake_answers_base64_as_the_sdk_asks_by_default(
    openai_fake: RunningFake[FakeOpenAIState],
) -> None:
    async with openai.AsyncOpenAI(base_url=openai_fake.url, api_key="sk-fake", max_retries=0) as client:
        response = await client.embeddings.create(model="text-embedding-3-small", input=["plain sdk"], dimensions=64)

    assert openai_fake.state.requests[-1].json["encoding_format"] == "base64"
    assert response.data[0].embedding == pytest.approx(fake_embedding("plain sdk", 64), abs=1e-6)
    assert response.usage.prompt_tokens == 2


# Gemini ----------------------------------------------------------------------------------------------------------


async def test_gemini_embeds_passages_in_batches_as_retrieval_documents(
    gemini_fake: RunningFake[FakeGeminiState],
) -> None:
    settings = knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=256, embedding_batch_size=32)

    async with opened(settings, gemini_settings(gemini_fake)) as embedder:
        vectors = await embedder.embed_documents(TEXTS)

    assert_vectors_of(vectors, TEXTS, 256)
    calls = gemini_fake.state.embeddings.calls
    assert [len(call.texts) for call in calls] == [32, 32, 6]
    assert {(call.model, call.dimensions, call.task_type) for call in calls} == {
        ("gemini-embedding-001", 256, "RETRIEVAL_DOCUMENT")
    }
    first = gemini_fake.state.requests[0]
    assert first.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert first.json["requests"][0] == {
        "content": {"parts": [{"text": TEXTS[0]}], "role": "user"},
        "taskType": "RETRIEVAL_DOCUMENT",
        "outputDimensionality": 256,
        "model": "models/gemini-embedding-001",
    }


async def test_gemini_embeds_a_query_as_a_retrieval_query(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    async with opened(
        knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=768), gemini_settings(gemini_fake)
    ) as embedder:
        vector = await embedder.embed_query("where is the deployment guide?")

    assert_vectors_of([vector], ["where is the deployment guide?"], 768)
    assert [call.task_type for call in gemini_fake.state.embeddings.calls] == ["RETRIEVAL_QUERY"]


async def test_gemini_batches_are_cut_at_googles_100_requests(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    settings = knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=128, embedding_batch_size=150)
    texts = [f"text number {number}" for number in range(120)]

    async with opened(settings, gemini_settings(gemini_fake)) as embedder:
        vectors = await embedder.embed_documents(texts)

    assert len(vectors) == 120
    assert [len(call.texts) for call in gemini_fake.state.embeddings.calls] == [100, 20]


async def test_gemini_embedding_2_gives_one_vector_per_text(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    # Given plain strings, the SDK would merge them into one content (one vector) for these models.
    settings = knowledge(
        EmbeddingProvider.GEMINI, embedding_model_id="gemini-embedding-2-preview", embedding_dimensions=128
    )

    async with opened(settings, gemini_settings(gemini_fake)) as embedder:
        vectors = await embedder.embed_documents(["first text", "second text"])

    assert_vectors_of(vectors, ["first text", "second text"], 128)


async def test_gemini_retries_throttling_then_answers(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.embeddings.fail_next(429)

    async with opened(
        knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=256), gemini_settings(gemini_fake)
    ) as embedder:
        vectors = await embedder.embed_documents(["retried text"])

    assert_vectors_of(vectors, ["retried text"], 256)
    assert [call.failed_with for call in gemini_fake.state.embeddings.calls] == [429, None]


async def test_gemini_failing_past_the_attempts_is_unavailable(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.embeddings.fail_next(*[500] * 5)

    async with opened(
        knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=256), gemini_settings(gemini_fake), attempts=2
    ) as embedder:
        with pytest.raises(ProviderUnavailableError) as raised:
            await embedder.embed_query("never embedded")

    assert len(gemini_fake.state.embeddings.calls) == 2
    assert "HTTP 500" in raised.value.detail
    assert SCRIPTED_TEXT not in raised.value.detail


async def test_gemini_vectors_of_another_size_are_a_provider_error(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.embeddings.wrong_dimensions = 3072

    async with opened(
        knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=256), gemini_settings(gemini_fake)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(["one", "two"])

    assert raised.value.code == "embedding_dimensions_mismatch"
    assert "3072" in raised.value.detail


async def test_gemini_refusing_the_key_is_a_provider_error_naming_it(gemini_fake: RunningFake[FakeGeminiState]) -> None:
    gemini_fake.state.api_key = "another-key"

    async with opened(
        knowledge(EmbeddingProvider.GEMINI, embedding_dimensions=256), gemini_settings(gemini_fake)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(["refused"])

    assert raised.value.code == "provider_auth_failed"
    assert "GEMINI_API_KEY" in raised.value.detail


# Bedrock (Titan Text Embeddings v2) -------------------------------------------------------------------------------


async def test_titan_embeds_one_text_per_call_in_order(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    settings = knowledge(EmbeddingProvider.BEDROCK, embedding_dimensions=512, embedding_batch_size=4)
    texts = TEXTS[:10]

    async with opened(settings, ProviderSettings.model_construct(provider_timeout_seconds=5.0)) as embedder:
        vectors = await embedder.embed_documents(texts)

    assert_vectors_of(vectors, texts, 512)
    calls = bedrock_fake.state.embeddings.calls
    assert sorted(text for call in calls for text in call.texts) == sorted(texts)
    invocations = [request for request in bedrock_fake.state.requests if request.path.endswith("/invoke")]
    assert {request.path for request in invocations} == {"/model/amazon.titan-embed-text-v2:0/invoke"}
    assert {(request.json["dimensions"], request.json["normalize"]) for request in invocations} == {(512, True)}
    assert all(set(request.json) == {"inputText", "dimensions", "normalize"} for request in invocations)


async def test_titan_calls_run_a_few_at_a_time(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    bedrock_fake.state.embeddings.delay_seconds = 0.1
    settings = knowledge(EmbeddingProvider.BEDROCK, embedding_dimensions=256, embedding_batch_size=32)

    async with opened(settings, ProviderSettings.model_construct(provider_timeout_seconds=5.0)) as embedder:
        vectors = await embedder.embed_documents(TEXTS[:12])

    assert len(vectors) == 12
    assert bedrock_fake.state.embeddings.most_in_flight == CONCURRENCY


async def test_titan_retries_throttling_and_server_errors_then_answers(
    bedrock_fake: RunningFake[FakeBedrockState],
) -> None:
    bedrock_fake.state.embeddings.fail_next(429, 500)

    async with opened(
        knowledge(EmbeddingProvider.BEDROCK), ProviderSettings.model_construct(provider_timeout_seconds=5.0)
    ) as embedder:
        vector = await embedder.embed_query("retried text")

    assert_vectors_of([vector], ["retried text"], 1024)
    assert [call.failed_with for call in bedrock_fake.state.embeddings.calls] == [429, 500, None]


async def test_titan_failing_past_the_attempts_is_unavailable(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    bedrock_fake.state.embeddings.fail_next(*[503] * (EMBEDDING_ATTEMPTS + 2))

    async with opened(
        knowledge(EmbeddingProvider.BEDROCK), ProviderSettings.model_construct(provider_timeout_seconds=5.0)
    ) as embedder:
        with pytest.raises(ProviderUnavailableError) as raised:
            await embedder.embed_documents(["never embedded"])

    assert len(bedrock_fake.state.embeddings.calls) == EMBEDDING_ATTEMPTS
    assert "HTTP 503" in raised.value.detail
    assert SCRIPTED_TEXT not in raised.value.detail


async def test_one_refused_titan_call_fails_the_batch(bedrock_fake: RunningFake[FakeBedrockState]) -> None:
    bedrock_fake.state.embeddings.fail_next(400)

    async with opened(
        knowledge(EmbeddingProvider.BEDROCK), ProviderSettings.model_construct(provider_timeout_seconds=5.0)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(TEXTS[:6])

    assert type(raised.value) is ProviderError
    assert "HTTP 400" in raised.value.detail
    assert [call.failed_with for call in bedrock_fake.state.embeddings.calls].count(400) == 1


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (EmbeddingScript(fewer_vectors=1), "embedding_response_invalid"),
        (EmbeddingScript(wrong_dimensions=512), "embedding_dimensions_mismatch"),
    ],
)
async def test_a_titan_answer_without_the_vector_asked_for_is_a_provider_error(
    bedrock_fake: RunningFake[FakeBedrockState], script: EmbeddingScript, code: str
) -> None:
    bedrock_fake.state.embeddings = script

    async with opened(
        knowledge(EmbeddingProvider.BEDROCK), ProviderSettings.model_construct(provider_timeout_seconds=5.0)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_documents(["one text"])

    assert type(raised.value) is ProviderError
    assert raised.value.code == code


async def test_bedrock_refusing_the_credentials_is_a_provider_error(
    bedrock_fake: RunningFake[FakeBedrockState],
) -> None:
    bedrock_fake.state.access_key_id = "AKIAANOTHERKEY"

    async with opened(
        knowledge(EmbeddingProvider.BEDROCK), ProviderSettings.model_construct(provider_timeout_seconds=5.0)
    ) as embedder:
        with pytest.raises(ProviderError) as raised:
            await embedder.embed_query("refused")

    assert raised.value.code == "provider_auth_failed"


# Every provider ----------------------------------------------------------------------------------------------------


@pytest.fixture(params=["openai", "gemini", "bedrock"])
def provider_on_fake(request: pytest.FixtureRequest) -> tuple[KnowledgeSettings, ProviderSettings]:
    """Knowledge and provider settings for one provider on its fake, at 256 dimensions."""
    provider = EmbeddingProvider(request.param)
    match provider:
        case EmbeddingProvider.OPENAI:
            providers = openai_settings(request.getfixturevalue("openai_fake"))
        case EmbeddingProvider.GEMINI:
            providers = gemini_settings(request.getfixturevalue("gemini_fake"))
        case _:
            request.getfixturevalue("bedrock_fake")
            providers = ProviderSettings.model_construct(provider_timeout_seconds=5.0)
    return knowledge(provider, embedding_dimensions=256), providers


async def test_a_query_is_nearest_the_passage_it_shares_words_with(
    provider_on_fake: tuple[KnowledgeSettings, ProviderSettings],
) -> None:
    passages = [
        "The deployment pipeline builds containers and pushes them to the registry.",
        "Our chocolate cake recipe needs cream, butter and dark chocolate.",
        "Vacation requests are approved by your manager in the HR portal.",
    ]

    async with opened(*provider_on_fake) as embedder:
        vectors = await embedder.embed_documents(passages)
        query = await embedder.embed_query("how does the pipeline build containers?")

    similarities = [cosine(query, vector) for vector in vectors]
    assert similarities.index(max(similarities)) == 0
    assert similarities[0] > 0.3 > max(similarities[1:])


async def test_no_texts_make_no_call(provider_on_fake: tuple[KnowledgeSettings, ProviderSettings]) -> None:
    async with opened(*provider_on_fake) as embedder:
        assert await embedder.embed_documents([]) == []
