"""ModelRepository on DynamoDB: the whole catalogue in one partition, read with one consistent Query.

    model    pk=CATALOGUE  sk=MODEL#{id}         body (the record as JSON), modelId
    claim    pk=CATALOGUE  sk=MODELID#{modelId}  id   (modelIds are unique: written with the model)
    default  pk=CATALOGUE  sk=DEFAULT            id   (the one default: switching it is one write)

Every write is one transaction whose conditions restate what it read, so a concurrent change makes it try
again from a fresh read instead of breaking the catalogue's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.errors import ConflictError
from apis.shared.models.catalogue_rules import (
    catalogue_order,
    check_default_kept,
    check_deletable,
    updated_model,
    with_default_flag,
)
from apis.shared.models.exceptions import ModelIdTaken
from apis.shared.models.models import ManagedModel, ManagedModelUpdate
from apis.shared.storage.dynamo.client import Item, Table, serialize
from apis.shared.storage.records import corrupt, read_or_skip

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PARTITION = "CATALOGUE"
MODEL_SK_PREFIX = "MODEL#"
KIND = "managed model"
DEFAULT_SK = "DEFAULT"
_WRITE_ATTEMPTS = 3


def model_sk(id: str) -> str:
    return f"{MODEL_SK_PREFIX}{id}"


def claim_sk(model_id: str) -> str:
    return f"MODELID#{model_id}"


@dataclass(frozen=True, slots=True)
class _Catalogue:
    """One consistent read of the partition. A model whose body no longer validates is in `unreadable` (id ->
    its modelId attribute) instead of `models`: lists leave it out, and a request for it is CorruptRecord."""

    models: dict[str, ManagedModel]
    default_id: str | None
    unreadable: dict[str, str]

    def owner_of(self, model_id: str) -> str | None:
        owner = next((model.id for model in self.models.values() if model.model_id == model_id), None)
        return owner or next((id for id, taken in self.unreadable.items() if taken == model_id), None)

    def model(self, id: str | None) -> ManagedModel | None:
        """The model with this id (isDefault set), or None; CorruptRecord if it cannot be read."""
        if id in self.unreadable:
            raise corrupt(KIND, id)
        model = self.models.get(id) if id else None
        return with_default_flag(model, self.default_id) if model else None

    def count(self) -> int:
        return len(self.models) + len(self.unreadable)


def _key(sk: str) -> Item:
    return serialize({"pk": PARTITION, "sk": sk})


class DynamoModelRepository:
    """The catalogue in the shared table; see the module docstring for the layout."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def _read(self) -> _Catalogue:
        request: Any = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": serialize({":pk": PARTITION}),
            "ConsistentRead": True,
        }
        models: dict[str, ManagedModel] = {}
        unreadable: dict[str, str] = {}
        default_id: str | None = None
        for item in await self._table.query(request, want=10_000):
            sk = item["sk"]["S"]
            if sk.startswith(MODEL_SK_PREFIX):
                id = sk.removeprefix(MODEL_SK_PREFIX)
                model = read_or_skip(KIND, id, partial(ManagedModel.model_validate_json, item["body"]["S"]))
                if model is None:
                    unreadable[id] = item.get("modelId", {}).get("S", "")
                else:
                    models[id] = model
            elif sk == DEFAULT_SK:
                default_id = item["id"]["S"]
        return _Catalogue(models=models, default_id=default_id, unreadable=unreadable)

    def _put(self, sk: str, condition: str | None = None, **values: str) -> TransactWriteItemTypeDef:
        put: Any = {"TableName": self._table.name, "Item": serialize({"pk": PARTITION, "sk": sk, **values})}
        if condition:
            put["ConditionExpression"] = condition
        return {"Put": put}

    def _put_model(self, model: ManagedModel, condition: str) -> TransactWriteItemTypeDef:
        stored = model.model_copy(update={"is_default": False})
        return self._put(model_sk(model.id), condition, body=stored.model_dump_json(), modelId=model.model_id)

    def _guard_pointer(self, action: dict[str, Any], expected: str | None) -> dict[str, Any]:
        """Make `action` (on the default pointer) conditional on the pointer still being what was read."""
        if expected is None:
            action["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            action["ConditionExpression"] = "#id = :expected"
            action["ExpressionAttributeNames"] = {"#id": "id"}
            action["ExpressionAttributeValues"] = serialize({":expected": expected})
        return action

    def _put_pointer(self, id: str, expected: str | None) -> TransactWriteItemTypeDef:
        put = {"TableName": self._table.name, "Item": serialize({"pk": PARTITION, "sk": DEFAULT_SK, "id": id})}
        return {"Put": self._guard_pointer(put, expected)}  # type: ignore[typeddict-item]

    async def get(self, id: str) -> ManagedModel | None:
        return (await self._read()).model(id)

    async def get_by_model_id(self, model_id: str) -> ManagedModel | None:
        catalogue = await self._read()
        return catalogue.model(catalogue.owner_of(model_id))

    async def list_models(self) -> list[ManagedModel]:
        catalogue = await self._read()
        return catalogue_order([with_default_flag(m, catalogue.default_id) for m in catalogue.models.values()])

    async def get_default(self) -> ManagedModel | None:
        catalogue = await self._read()
        return catalogue.model(catalogue.default_id)

    async def create(self, model: ManagedModel, *, make_default: bool) -> ManagedModel:
        absent = "attribute_not_exists(pk)"
        for _ in range(_WRITE_ATTEMPTS):
            catalogue = await self._read()
            if catalogue.owner_of(model.model_id):
                raise ModelIdTaken(f"a model with modelId {model.model_id!r} exists")
            actions = [self._put_model(model, absent), self._put(claim_sk(model.model_id), absent, id=model.id)]
            becomes_default = make_default or catalogue.default_id is None
            if becomes_default:
                actions.append(self._put_pointer(model.id, catalogue.default_id))
            reasons = await self._table.transact(actions)
            if reasons is None:
                return with_default_flag(model, model.id if becomes_default else catalogue.default_id)
            if reasons[1].code == "ConditionalCheckFailed":
                raise ModelIdTaken(f"a model with modelId {model.model_id!r} exists")
        raise ConflictError("the catalogue changed while this model was added: try again")

    async def update(self, id: str, changes: ManagedModelUpdate, *, updated_at: str) -> ManagedModel | None:
        for _ in range(_WRITE_ATTEMPTS):
            catalogue = await self._read()
            current = catalogue.model(id)
            if current is None:
                return None
            check_default_kept(id=id, default_id=catalogue.default_id, changes=changes)
            updated = updated_model(current, changes, updated_at=updated_at)
            owner = catalogue.owner_of(updated.model_id)
            if owner not in (None, id):
                raise ModelIdTaken(f"a model with modelId {updated.model_id!r} exists")
            actions = self._update_actions(current, updated, catalogue, make_default=bool(changes.is_default))
            if await self._table.transact(actions) is None:
                default_id = id if changes.is_default else catalogue.default_id
                return with_default_flag(updated, default_id)
        raise ConflictError("the catalogue changed while this model was updated: try again")

    def _update_actions(
        self, current: ManagedModel, updated: ManagedModel, catalogue: _Catalogue, *, make_default: bool
    ) -> list[TransactWriteItemTypeDef]:
        actions = [self._put_model(updated, "attribute_exists(pk)")]
        if updated.model_id != current.model_id:
            actions.append({"Delete": {"TableName": self._table.name, "Key": _key(claim_sk(current.model_id))}})
            actions.append(self._put(claim_sk(updated.model_id), "attribute_not_exists(pk)", id=updated.id))
        if make_default:
            actions.append(self._put_pointer(updated.id, catalogue.default_id))
        return actions

    async def delete(self, id: str) -> bool:
        for _ in range(_WRITE_ATTEMPTS):
            catalogue = await self._read()
            # A model that cannot be read back can still be deleted: its claim is named by its modelId attribute.
            current = catalogue.models.get(id)
            model_id = current.model_id if current else catalogue.unreadable.get(id)
            if model_id is None:
                return False
            check_deletable(id=id, default_id=catalogue.default_id, model_count=catalogue.count())
            actions: list[TransactWriteItemTypeDef] = [
                {
                    "Delete": {
                        "TableName": self._table.name,
                        "Key": _key(model_sk(id)),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Delete": {"TableName": self._table.name, "Key": _key(claim_sk(model_id))}},
            ]
            pointer = self._guard_pointer(
                {"TableName": self._table.name, "Key": _key(DEFAULT_SK)}, catalogue.default_id
            )
            # The default pointer goes with its model; otherwise it must not have moved here meanwhile.
            actions.append({"Delete": pointer} if catalogue.default_id == id else {"ConditionCheck": pointer})  # type: ignore[typeddict-item]
            if await self._table.transact(actions) is None:
                return True
        raise ConflictError("the catalogue changed while this model was deleted: try again")
