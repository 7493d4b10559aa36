"""Partial updates (every PATCH, and the PUTs that change only the fields sent): what omitted and null mean,
and the check that the merged record is valid before it is stored.

- A field that is not sent stays as stored: pydantic's `model_fields_set` tells it from one sent as null.
- A null clears a field that may be empty, one whose stored record declares an empty default (None, "", []
  or {}): the field takes that default.
- A null on any other field (a name, a flag, a number) is refused as malformed (422). Such a field has no
  empty value, and guessing one (false? 0?) would change what the caller may not have meant to change.
- The stored record with the sent fields replaced is validated as a whole record before it is written
  (`merged`), so an update schema that is looser than its record can never store what cannot be read back.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator

from apis.shared.errors import InvalidInput
from apis.shared.schemas import ApiModel

R = TypeVar("R", bound=BaseModel)
NOT_NULLABLE = "cannot be null: send a value, or leave the field out to keep it as it is"


def cleared_value(record: type[BaseModel], name: str) -> Any:
    """The value a null sets `name` of `record` to; ValueError when the field has no empty value."""
    field = record.model_fields.get(name)
    if field is not None and not field.is_required():
        default = field.get_default(call_default_factory=True)
        if default is None or (isinstance(default, str | list | dict) and not default):
            return default
    raise ValueError(NOT_NULLABLE)


class PartialUpdate(ApiModel):
    """The body of an update: every field optional; `record` is the stored model the fields belong to."""

    record: ClassVar[type[BaseModel]]

    @field_validator("*", mode="after")
    @classmethod
    def _null_clears_or_is_refused(cls, value: Any, info: ValidationInfo) -> Any:
        """Runs only for fields that were sent (defaults are not validated), so an omitted field stays None."""
        if value is not None or info.field_name is None:
            return value
        return cleared_value(cls.record, info.field_name)

    def sent_fields(self) -> dict[str, Any]:
        """Field name -> new value of each field that was sent, a null already turned into its empty value."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def merged(current: R, changes: Mapping[str, Any]) -> R:
    """`current` with `changes` (field name -> value) replaced, validated as a whole new record.

    Raises `InvalidInput` (422) naming each field the record would not accept; nothing is changed then. The
    result shares no list or object with `current`, so the caller may store it as is.
    """
    record = type(current)
    data = current.model_dump(by_alias=True)
    for name, value in changes.items():
        data[record.model_fields[name].alias or name] = copy.deepcopy(value)
    try:
        return record.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"loc": ["body", *(str(part) for part in error["loc"])], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{'.'.join(problem['loc'][1:])}: {problem['msg']}" for problem in problems[:5])
        raise InvalidInput(f"invalid update: {summary}", problems=problems) from exc
