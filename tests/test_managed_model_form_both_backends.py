"""The reference client's model form against the catalogue, through HTTP, on SQLite and on DynamoDB (moto).

The bodies are what the form's `modelForm.value` sends (admin/manage-models/model-form.page.ts): every field,
modalities in upper case, `availableToRoles` and `knowledgeCutoffDate` included.
"""

from __future__ import annotations

import json
from typing import Any

from apis.shared.config import StorageBackend
from tests.fixtures.services import Services, open_services
from tests.helpers import random_session_id, random_user_id
from tests.test_admin_updates_both_backends import StoredRecords


class EarlierRecords(StoredRecords):
    """Stored models as an earlier version wrote them, behind the repositories' back."""

    def remove_model_fields(self, id: str, *names: str) -> None:
        if self.settings.storage_backend is StorageBackend.LOCAL:
            connection = self._sqlite()
            try:
                (body,) = connection.execute("SELECT body FROM managed_models WHERE id = ?", (id,)).fetchone()
                kept = {k: v for k, v in json.loads(body).items() if k not in names}
                connection.execute("UPDATE managed_models SET body = ? WHERE id = ?", (json.dumps(kept), id))
            finally:
                connection.close()
        else:
            item = self._dynamo_get({"pk": "CATALOGUE", "sk": f"MODEL#{id}"})
            item["body"] = json.dumps({k: v for k, v in json.loads(item["body"]).items() if k not in names})
            self._dynamo_put(item)


def form_create_body() -> dict[str, Any]:
    """A Bedrock model as the form sends it after the Bedrock catalogue page prefilled it."""
    return {
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "modelName": "Claude 3.5 Haiku",
        "provider": "bedrock",
        "providerName": "Anthropic",
        "inputModalities": ["TEXT", "IMAGE"],
        "outputModalities": ["TEXT"],
        "maxInputTokens": 200000,
        "maxOutputTokens": 8192,
        "allowedAppRoles": ["default"],
        "availableToRoles": [],
        "enabled": True,
        "inputPricePerMillionTokens": 0.8,
        "outputPricePerMillionTokens": 4,
        "cacheWritePricePerMillionTokens": 1,
        "cacheReadPricePerMillionTokens": 0.08,
        "isReasoningModel": False,
        "knowledgeCutoffDate": "2024-07-01",
        "supportsCaching": True,
    }


def form_update_body() -> dict[str, Any]:
    """The same form on edit: it sends every field again, here with other modalities and a legacy role."""
    return {
        **form_create_body(),
        "inputModalities": ["TEXT", "IMAGE", "VIDEO", "AUDIO"],
        "outputModalities": ["EMBEDDING"],
        "availableToRoles": ["Faculty"],
        "knowledgeCutoffDate": None,
        "supportsCaching": False,
        "cacheWritePricePerMillionTokens": None,
        "cacheReadPricePerMillionTokens": None,
    }


async def test_the_forms_create_and_update_bodies_are_stored_and_read_back(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])

    created = await services.app.post("/admin/managed-models", json=form_create_body(), headers=admin)
    assert created.status_code == 201, created.text
    id = created.json()["id"]
    updated = await services.app.put(f"/admin/managed-models/{id}", json=form_update_body(), headers=admin)
    read = await services.app.get(f"/admin/managed-models/{id}", headers=admin)

    assert {k: created.json()[k] for k in form_create_body()} == form_create_body()
    assert updated.status_code == 200, updated.text
    assert {k: read.json()[k] for k in form_update_body()} == form_update_body()
    assert read.json() == updated.json()


async def test_modalities_are_accepted_in_any_case_and_answered_upper_case(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    body = {**form_create_body(), "inputModalities": ["text", "Image", "document", "TEXT"], "outputModalities": []}

    created = await services.app.post("/admin/managed-models", json=body, headers=admin)
    updated = await services.app.put(
        f"/admin/managed-models/{created.json()['id']}", json={"outputModalities": ["embedding"]}, headers=admin
    )

    assert created.status_code == 201, created.text
    assert created.json()["inputModalities"] == ["TEXT", "IMAGE", "DOCUMENT"]
    assert updated.json()["outputModalities"] == ["EMBEDDING"]


async def test_models_stored_in_lower_case_read_back_in_the_new_vocabulary(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    created = await services.app.post("/admin/managed-models", json=form_create_body(), headers=admin)
    id = created.json()["id"]
    stored = EarlierRecords(services.settings.storage)
    # As an earlier version wrote them: lower-case modalities, neither of the form's two newer fields.
    stored.set_model_field(id, "input_modalities", ["text", "image"])
    stored.set_model_field(id, "output_modalities", ["text"])
    stored.remove_model_fields(id, "available_to_roles", "knowledge_cutoff_date")

    read = (await services.app.get(f"/admin/managed-models/{id}", headers=admin)).json()
    listed = (await services.app.get("/admin/managed-models", headers=admin)).json()["models"]
    usable = (await services.app.get("/models", headers=services.auth(random_user_id()))).json()["models"]

    assert (read["inputModalities"], read["outputModalities"]) == (["TEXT", "IMAGE"], ["TEXT"])
    assert (read["availableToRoles"], read["knowledgeCutoffDate"]) == ([], None)
    assert next(m for m in listed if m["id"] == id)["inputModalities"] == ["TEXT", "IMAGE"]
    assert next(m for m in usable if m["id"] == id)["outputModalities"] == ["TEXT"]


async def test_the_seeded_local_model_has_limits_and_an_earlier_one_gets_them_at_start(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    seeded = (await services.app.get("/admin/managed-models", headers=admin)).json()["models"][0]
    assert (seeded["modelId"], seeded["maxInputTokens"], seeded["maxOutputTokens"]) == ("local-echo", 128000, 4096)
    stored = StoredRecords(services.settings.storage)
    stored.set_model_field(seeded["id"], "max_input_tokens", None)
    stored.set_model_field(seeded["id"], "max_output_tokens", None)

    async with open_services(services.settings) as restarted:
        after = (await restarted.app.get(f"/admin/managed-models/{seeded['id']}", headers=admin)).json()

    assert (after["maxInputTokens"], after["maxOutputTokens"]) == (128000, 4096)
    assert {k: v for k, v in after.items() if k != "updatedAt"} == {k: v for k, v in seeded.items() if k != "updatedAt"}


async def test_available_to_roles_opens_a_model_to_those_token_roles_on_both_services(services: Services) -> None:
    admin = services.auth_as("root", roles=["admin"])
    body = {**form_create_body(), "modelId": "local-faculty", "provider": "local", "allowedAppRoles": []}
    created = await services.app.post(
        "/admin/managed-models", json={**body, "availableToRoles": ["Faculty"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    faculty = services.auth_as(random_user_id(), roles=["Faculty"])
    student = services.auth_as(random_user_id(), roles=["faculty"])  # token roles match exactly, as mappings do

    seen_by_faculty = (await services.app.get("/models", headers=faculty)).json()["models"]
    seen_by_student = (await services.app.get("/models", headers=student)).json()["models"]
    turn = {"session_id": random_session_id(), "message": "hi", "model_id": "local-faculty"}
    accepted = await services.inference.post("/invocations", json=turn, headers=faculty)
    refused = await services.inference.post(
        "/invocations", json={**turn, "session_id": random_session_id()}, headers=student
    )

    assert "local-faculty" in [m["modelId"] for m in seen_by_faculty]
    assert "local-faculty" not in [m["modelId"] for m in seen_by_student]
    assert accepted.status_code == 200
    assert (refused.status_code, refused.json()["code"]) == (403, "model_not_allowed")
