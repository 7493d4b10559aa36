"""Keys of app roles in the shared table, and how a role becomes an item and back.

    role  pk=ROLE  sk=ROLE#{roleId}

Every role shares one partition: the set is small and always read whole, so one Query returns it.
Attributes are stored natively, named as on the wire (camelCase), beside the keys.
"""

from __future__ import annotations

from typing import Any

from apis.shared.rbac.models import AppRole, AppRoleUpdate
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

ROLE_PK = "ROLE"
ROLE_SK_PREFIX = "ROLE#"
_ROLE_FIELDS = tuple(field.alias or name for name, field in AppRole.model_fields.items())


def role_sk(role_id: str) -> str:
    """Role ids match ^[a-z][a-z0-9_]+$, so they need no escaping."""
    return f"{ROLE_SK_PREFIX}{role_id}"


def role_key(role_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: ROLE_PK, schema.SORT_KEY: role_sk(role_id)})


def role_item(role: AppRole) -> Item:
    return serialize(
        {
            schema.PARTITION_KEY: ROLE_PK,
            schema.SORT_KEY: role_sk(role.role_id),
            **role.model_dump(mode="json", by_alias=True),
        }
    )


def role_id_of(item: Item) -> str:
    """The role id in an item's key, which is there even when the rest of the item cannot be read."""
    return str(item[schema.SORT_KEY]["S"]).removeprefix(ROLE_SK_PREFIX)


def role_from_item(item: Item) -> AppRole:
    # Pydantic turns the Decimal of `priority` back into an int.
    values = deserialize(item)
    return AppRole.model_validate({name: values[name] for name in _ROLE_FIELDS if name in values})


def changed_attributes(changes: AppRoleUpdate, updated_at: str) -> dict[str, Any]:
    """Attribute name -> new value for each sent field and `updatedAt`, so fields not sent are left alone."""
    attributes: dict[str, Any] = {
        AppRoleUpdate.model_fields[name].alias or name: value for name, value in changes.sent_fields().items()
    }
    attributes[AppRole.model_fields["updated_at"].alias or "updated_at"] = updated_at
    return attributes
