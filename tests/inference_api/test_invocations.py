"""POST /invocations through HTTP: the SSE vocabulary and order, what is stored, and every error before streaming."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from apis.shared.auth import load_or_create_key_pair
from apis.shared.errors import StorageUnavailableError
from apis.shared.sessions import Message, SessionRepository
from apis.shared.storage import Storage
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


async def invoke(services: Services, user: str, body: dict[str, Any], **headers: str) -> Any:
    return await services.inference.post("/invocations", json=body, headers={**services.auth(user), **headers})


async def test_a_turn_streams_the_contract_events_in_order(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()

    response = await invoke(local_services, user, {"session_id": session_id, "message": "Hello, world"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-session-id"] == session_id
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    deltas = [data for name, data in events if name == "content_block_delta"]
    assert names[:2] == ["message_start", "content_block_start"]
    assert names[-5:] == ["content_block_stop", "message_stop", "metadata", "metadata", "done"]
    assert len(deltas) >= 3, "the local model streams its answer in several deltas"
    answer = "".join(str(data["text"]) for data in deltas)
    assert "Hello, world" in answer
    assert "offline" in answer
    final = events[-2][1]
    assert final["cost"] == 0.0
    usage = final["usage"]
    assert isinstance(usage, dict)
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0
    metrics = final["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["latencyMs"] >= metrics["timeToFirstByteMs"] > 0


async def test_a_turn_is_stored_and_reads_back_through_the_app_api(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()
    response = await invoke(local_services, user, {"sessionId": session_id, "message": "Remember me"})
    message_id = parse_sse(response.text)[0][1]["messageId"]

    session = (
        await local_services.app.get(f"/sessions/{session_id}/metadata", headers=local_services.auth(user))
    ).json()
    history = (
        await local_services.app.get(f"/sessions/{session_id}/messages", headers=local_services.auth(user))
    ).json()

    assert session["messageCount"] == 2
    user_message, answer = history["messages"]
    assert user_message["role"] == "user"
    assert user_message["content"] == [{"type": "text", "text": "Remember me"}]
    assert answer["id"] == answer["messageId"] == message_id
    assert answer["role"] == "assistant"
    assert answer["status"] == "complete"
    assert "Remember me" in answer["content"][0]["text"]
    assert answer["metadata"]["modelInfo"]["provider"] == "local"
    assert answer["metadata"]["tokenUsage"]["outputTokens"] > 0
    latency = answer["metadata"]["latency"]  # whole milliseconds, named as the reference names them
    assert latency["endToEndLatency"] >= latency["timeToFirstToken"] >= 0
    assert answer["metadata"]["cost"] == 0.0
    assert session["lastMessageAt"] == answer["createdAt"]


async def test_the_session_header_names_the_session(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()

    first = await invoke(local_services, user, {"message": "one"}, **{SESSION_HEADER: session_id})
    second = await invoke(
        local_services, user, {"message": "two", "session_id": session_id}, **{SESSION_HEADER: session_id}
    )

    assert (first.status_code, second.status_code) == (200, 200)
    session = (
        await local_services.app.get(f"/sessions/{session_id}/metadata", headers=local_services.auth(user))
    ).json()
    assert session["messageCount"] == 4


async def test_another_users_session_is_404_and_nothing_is_written(local_services: Services) -> None:
    owner, stranger, session_id = random_user_id(), random_user_id(), random_session_id()
    await invoke(local_services, owner, {"session_id": session_id, "message": "mine"})

    response = await invoke(local_services, stranger, {"session_id": session_id, "message": "let me in"})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    session = (
        await local_services.app.get(f"/sessions/{session_id}/metadata", headers=local_services.auth(owner))
    ).json()
    assert session["messageCount"] == 2


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"message": "no session"}, {}, 400, "session_required"),
        ({"session_id": "a1", "message": "x"}, {SESSION_HEADER: "b2"}, 400, "session_mismatch"),
        ({"session_id": "a1", "message": ""}, {}, 422, "validation_error"),
        ({"session_id": "a1", "message": "   \n"}, {}, 422, "validation_error"),
        ({"session_id": "a1"}, {}, 422, "validation_error"),
        ({"session_id": "bad id", "message": "x"}, {}, 422, "validation_error"),
        ({"session_id": "a1", "message": "x", "temperature": 2.5}, {}, 422, "validation_error"),
        ({"session_id": "a1", "message": "x", "max_tokens": 0}, {}, 422, "validation_error"),
        ({"session_id": "a1", "message": "x", "provider": "acme"}, {}, 422, "validation_error"),
        ({"session_id": "a1", "message": "x", "surprise": True}, {}, 422, "validation_error"),
        ({"session_id": "a1", "message": "x", "model_id": "gpt-nonexistent"}, {}, 400, "unknown_model"),
        ({"session_id": "a1", "message": "x", "provider": "openai"}, {}, 400, "provider_mismatch"),
        ({"session_id": "a1", "message": "x", "enabled_tools": ["shell"]}, {}, 403, "tool_not_allowed"),
        ({"session_id": "a1", "message": "x", "file_upload_ids": ["u1"]}, {}, 400, "attachment_unusable"),
        (
            {
                "session_id": "a1",
                "message": "x",
                "files": [{"filename": "a.pdf", "content_type": "application/pdf", "bytes": "aGk="}],
            },
            {},
            400,
            "file_content_mismatch",
        ),
        (
            {
                "session_id": "a1",
                "message": "x",
                "files": [{"filename": "a.exe", "content_type": "application/x-msdownload", "bytes": "aGk="}],
            },
            {},
            400,
            "file_type_not_allowed",
        ),
        ({"session_id": "a1", "message": "x", "assistant_id": "as1"}, {}, 404, "assistant_not_found"),
    ],
)
async def test_bad_requests_fail_before_streaming_and_store_nothing(
    local_services: Services, body: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    user = random_user_id()
    body = {**body, "session_id": f"{body['session_id']}-{user}"} if "session_id" in body else body

    response = await invoke(local_services, user, body, **headers)

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    listed = (await local_services.app.get("/sessions", headers=local_services.auth(user))).json()
    assert listed["sessions"] == []


@pytest.mark.parametrize("header_session_id", ["../x y", "bad id", "-leading-dash", "a" * 129, "a/b", "semi;colon"])
async def test_a_session_header_the_routes_could_not_address_is_refused_like_the_body_field(
    services: Services, header_session_id: str
) -> None:
    user = random_user_id()

    response = await invoke(
        services,
        user,
        {"message": "x"},
        **{SESSION_HEADER: header_session_id},
    )
    body_answer = await invoke(services, user, {"message": "x", "session_id": header_session_id})

    assert response.status_code == body_answer.status_code == 422, response.text
    assert response.json()["code"] == body_answer.json()["code"] == "validation_error"
    listed = (await services.app.get("/sessions", headers=services.auth(user))).json()
    assert listed["sessions"] == []


async def test_an_explicit_local_model_and_provider_are_accepted(local_services: Services) -> None:
    response = await invoke(
        local_services,
        random_user_id(),
        {
            "session_id": random_session_id(),
            "message": "hi",
            "model_id": "local-echo",
            "provider": "local",
            "temperature": 0.5,
        },
    )

    assert response.status_code == 200
    assert parse_sse(response.text)[-1][0] == "done"


@pytest.mark.parametrize("token", ["", "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
async def test_invocations_without_a_valid_token_is_401(local_services: Services, token: str) -> None:
    response = await local_services.inference.post(
        "/invocations", json={"session_id": "s1", "message": "hi"}, headers={"Authorization": token}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def signed_with_local_key(services: Services, **overrides: Any) -> str:
    """A token signed with the services' own local key, with chosen claims (expired, foreign issuer...)."""
    key_pair = load_or_create_key_pair(services.settings.storage.data_dir)
    now = int(time.time())
    claims = {"iss": "colloquy-local", "aud": "colloquy", "sub": "mallory", "iat": now, "exp": now + 600}
    return jwt.encode({**claims, **overrides}, key_pair.private_key, algorithm="ES256", headers={"kid": key_pair.kid})


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 3600},
        {"iss": "https://elsewhere.example"},
        {"aud": "another-service"},
    ],
)
async def test_expired_or_foreign_tokens_are_401(local_services: Services, claims: dict[str, Any]) -> None:
    token = signed_with_local_key(local_services, **claims)

    response = await local_services.inference.post(
        "/invocations", json={"session_id": "s1", "message": "hi"}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


def unsigned_token() -> str:
    """`alg: none`: a token anyone can write, which must never be accepted."""
    now = int(time.time())
    claims = {"iss": "colloquy-local", "aud": "colloquy", "sub": "mallory", "iat": now, "exp": now + 600}
    return jwt.encode(claims, key="", algorithm="none")


def signed_by_a_stranger() -> str:
    """Right claims, but signed by a key the services never made."""
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {"iss": "colloquy-local", "aud": "colloquy", "sub": "mallory", "iat": now, "exp": now + 600}
    return jwt.encode(claims, stranger, algorithm="ES256")


@pytest.mark.parametrize("forge", [unsigned_token, signed_by_a_stranger])
async def test_forged_tokens_are_401_on_both_services(local_services: Services, forge: Any) -> None:
    headers = {"Authorization": f"Bearer {forge()}"}

    turn = await local_services.inference.post(
        "/invocations", json={"session_id": "s1", "message": "hi"}, headers=headers
    )
    listing = await local_services.app.get("/sessions", headers=headers)

    assert (turn.status_code, listing.status_code) == (401, 401)
    assert listing.headers["www-authenticate"] == "Bearer"


class FailingAnswers:
    """The real repository, except that storing an assistant message fails as a lost connection would."""

    def __init__(self, inner: SessionRepository) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def append_message(self, user_id: str, session_id: str, message: Message, **options: Any) -> Any:
        if message.role == "assistant":
            raise StorageUnavailableError("the database is busy or unreachable; try again shortly")
        return await self._inner.append_message(user_id, session_id, message, **options)


async def test_a_storage_failure_mid_turn_is_a_stream_error_then_done(local_services: Services) -> None:
    storage: Storage = local_services.inference_asgi.state.storage
    real = storage.sessions
    object.__setattr__(storage, "sessions", FailingAnswers(real))
    user, session_id = random_user_id(), random_session_id()
    try:
        response = await invoke(local_services, user, {"session_id": session_id, "message": "hello"})
    finally:
        object.__setattr__(storage, "sessions", real)

    events = parse_sse(response.text)
    assert response.status_code == 200
    assert [name for name, _ in events][-2:] == ["stream_error", "done"]
    assert events[-2][1]["code"] == "storage_unavailable"
    assert events[-2][1]["recoverable"] is True
    history = (
        await local_services.app.get(f"/sessions/{session_id}/messages", headers=local_services.auth(user))
    ).json()
    assert [m["role"] for m in history["messages"]] == ["user"]
