"""Embedding calls are metered: an ingestion for the assistant's owner, a query for the user it serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from apis.shared.clock import now_iso
from apis.shared.config import EmbeddingProvider, KnowledgeSettings, ProviderSettings
from apis.shared.providers.token_estimates import estimate_tokens
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.server import RunningFake
from tests.fixtures.services import open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id
from tests.knowledge_bases import MARKDOWN, add_document, new_assistant

TEXT = b"# Deployments\n\nOur team deploys on Fridays after the review."
PRICE = 20.0  # per million tokens, high enough to show in the totals


async def test_ingestion_and_query_embeddings_count_for_the_users_they_serve(
    tmp_path: Path, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        update={
            "providers": ProviderSettings.model_construct(openai_api_key="sk-fake", openai_base_url=openai_fake.url),
            "knowledge": KnowledgeSettings.model_construct(
                embedding_provider=EmbeddingProvider.OPENAI,
                embedding_dimensions=64,
                embedding_price_per_million_tokens=PRICE,
            ),
        }
    )
    owner, friend = random_user_id(), random_user_id()
    question = "When does the team deploy?"
    async with open_services(settings) as services:
        assistant_id = await new_assistant(services, owner, visibility="PUBLIC")
        document = await add_document(services, owner, assistant_id, "a.md", MARKDOWN, TEXT)
        turn = await services.inference.post(
            "/invocations",
            json={"session_id": random_session_id(), "message": question, "assistant_id": assistant_id},
            headers=services.auth(friend),
        )
        costs = services.app_asgi.state.storage.costs
        owner_month = await costs.get_summary(owner, now_iso()[:7])
        friend_month = await costs.get_summary(friend, now_iso()[:7])

    chunk_tokens = estimate_tokens("Deployments\nOur team deploys on Fridays after the review.")
    assert document["status"] == "complete"
    assert turn.status_code == 200
    [owner_embedding] = [m for m in owner_month.models if m.model_id == "text-embedding-3-small"]
    assert owner_embedding.input_tokens == chunk_tokens
    assert owner_month.total_cost == pytest.approx(chunk_tokens * PRICE / 1_000_000)
    [friend_embedding] = [m for m in friend_month.models if m.model_id == "text-embedding-3-small"]
    assert friend_embedding.input_tokens == estimate_tokens(question)
    assert friend_embedding.total_cost == pytest.approx(estimate_tokens(question) * PRICE / 1_000_000)
