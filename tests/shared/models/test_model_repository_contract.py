"""The ModelRepository contract on the in-memory fake, SQLite and DynamoDB: CRUD, unique ids, one default."""

from __future__ import annotations

import uuid

import pytest

from apis.shared.errors import InvalidInput
from apis.shared.models import (
    DefaultModelRequired,
    ManagedModel,
    ManagedModelCreate,
    ManagedModelUpdate,
    ModelIdTaken,
    ModelRepository,
    managed_models,
)


def model_in(name: str | None = None, **fields: object) -> ManagedModelCreate:
    model_id = name or f"model-{uuid.uuid4().hex[:8]}"
    return ManagedModelCreate.model_validate(
        {"modelId": model_id, "modelName": model_id.title(), "provider": "openai", **fields}
    )


async def add(repo: ModelRepository, name: str | None = None, **fields: object) -> ManagedModel:
    return await managed_models.create(models=repo, model_in=model_in(name, **fields))


async def test_the_first_model_becomes_the_default(model_repository: ModelRepository) -> None:
    first = await add(model_repository, "gpt-a")
    second = await add(model_repository, "gpt-b")

    assert first.is_default
    assert not second.is_default
    default = await model_repository.get_default()
    assert default is not None
    assert default.id == first.id


async def test_a_model_reads_back_by_id_and_by_model_id(model_repository: ModelRepository) -> None:
    created = await add(
        model_repository,
        "claude-x",
        provider="bedrock",
        inputModalities=["text", "image"],
        maxInputTokens=200_000,
        inputPricePerMillionTokens=3.0,
        outputPricePerMillionTokens=15.0,
        cacheReadPricePerMillionTokens=0.3,
        allowedAppRoles=["staff_role"],
    )

    assert await model_repository.get(created.id) == created
    assert await model_repository.get_by_model_id("claude-x") == created
    assert await model_repository.get("nope") is None
    assert await model_repository.get_by_model_id("nope") is None
    assert created.pricing() == {
        "inputPricePerMillionTokens": 3.0,
        "outputPricePerMillionTokens": 15.0,
        "cacheReadPricePerMillionTokens": 0.3,
    }


async def test_model_ids_are_unique(model_repository: ModelRepository) -> None:
    await add(model_repository, "same")
    other = await add(model_repository, "other")

    with pytest.raises(ModelIdTaken):
        await add(model_repository, "same")
    with pytest.raises(ModelIdTaken):
        await model_repository.update(other.id, ManagedModelUpdate(model_id="same"), updated_at="2030-01-01T00:00:00Z")

    assert [m.model_id for m in await model_repository.list_models()] == ["other", "same"]


async def test_renaming_a_model_id_frees_the_old_one(model_repository: ModelRepository) -> None:
    created = await add(model_repository, "old-name")

    renamed = await model_repository.update(
        created.id, ManagedModelUpdate(model_id="new-name"), updated_at="2030-01-01T00:00:00.000000Z"
    )
    reused = await add(model_repository, "old-name")

    assert renamed is not None
    assert renamed.model_id == "new-name"
    assert renamed.updated_at == "2030-01-01T00:00:00.000000Z"
    assert await model_repository.get_by_model_id("new-name") == renamed
    assert reused.model_id == "old-name"


async def test_update_changes_only_the_fields_sent(model_repository: ModelRepository) -> None:
    created = await add(model_repository, "m1", outputPricePerMillionTokens=2.0, allowedAppRoles=["a"])

    updated = await model_repository.update(
        created.id, ManagedModelUpdate(enabled=False, allowed_app_roles=["a", "b"]), updated_at=created.updated_at
    )

    assert updated is not None
    assert (updated.enabled, updated.allowed_app_roles, updated.output_price_per_million_tokens) == (
        False,
        ["a", "b"],
        2.0,
    )
    assert await model_repository.get(created.id) == updated
    assert await model_repository.update("missing", ManagedModelUpdate(enabled=False), updated_at="x") is None


async def test_an_update_whose_merged_model_is_invalid_raises_and_stores_nothing(
    model_repository: ModelRepository,
) -> None:
    created = await add(model_repository, "m1")
    # Past the schema's own checks, as a looser update schema would be: the merged record is what is checked.
    loose = ManagedModelUpdate.model_construct(_fields_set={"enabled", "model_name"}, enabled=None, model_name="Kept")

    with pytest.raises(InvalidInput) as raised:
        await model_repository.update(created.id, loose, updated_at="2030-01-01T00:00:00Z")

    assert raised.value.status_code == 422
    assert [problem["loc"] for problem in raised.value.problems] == [["body", "enabled"]]
    assert await model_repository.get(created.id) == created
    assert await model_repository.list_models() == [created]


async def test_exactly_one_default_as_it_moves(model_repository: ModelRepository) -> None:
    first = await add(model_repository, "a")
    second = await add(model_repository, "b")
    third = await add(model_repository, "c", isDefault=True)

    moved = await model_repository.update(second.id, ManagedModelUpdate(is_default=True), updated_at="t")

    assert moved is not None
    assert moved.is_default
    defaults = [m.model_id for m in await model_repository.list_models() if m.is_default]
    assert defaults == ["b"]
    assert not (await model_repository.get(third.id) or first).is_default


async def test_the_default_cannot_be_unset_or_deleted_while_others_remain(model_repository: ModelRepository) -> None:
    default = await add(model_repository, "a")
    other = await add(model_repository, "b")

    with pytest.raises(DefaultModelRequired):
        await model_repository.update(default.id, ManagedModelUpdate(is_default=False), updated_at="t")
    with pytest.raises(DefaultModelRequired):
        await model_repository.delete(default.id)

    assert await model_repository.delete(other.id) is True
    assert await model_repository.delete(default.id) is True  # the last model may go
    assert await model_repository.list_models() == []
    assert await model_repository.get_default() is None
    assert (await add(model_repository, "fresh")).is_default


async def test_delete_removes_the_model_and_its_id(model_repository: ModelRepository) -> None:
    await add(model_repository, "keeper")
    doomed = await add(model_repository, "doomed")

    deleted = await model_repository.delete(doomed.id)

    assert deleted is True
    assert await model_repository.get(doomed.id) is None
    assert await model_repository.delete(doomed.id) is False
    assert (await add(model_repository, "doomed")).model_id == "doomed"


async def test_list_is_ordered_by_name(model_repository: ModelRepository) -> None:
    for name in ["zeta", "Alpha", "mid"]:
        await add(model_repository, name)

    assert [m.model_name for m in await model_repository.list_models()] == ["Alpha", "Mid", "Zeta"]
