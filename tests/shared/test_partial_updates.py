"""The partial-update rules every update body shares: omitted, null that clears, null refused, merged record."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import BaseModel, Field, ValidationError

from apis.shared.errors import InvalidInput
from apis.shared.partial_updates import PartialUpdate, merged
from apis.shared.schemas import ApiModel


class Thing(ApiModel):
    display_name: str = Field(min_length=1)
    note: str = ""
    tags: list[str] = Field(default_factory=list)
    limit: int | None = None
    enabled: bool = True
    kinds: list[str] = Field(default_factory=lambda: ["text"])


class ThingUpdate(PartialUpdate):
    record: ClassVar[type[BaseModel]] = Thing

    display_name: str | None = None
    note: str | None = None
    tags: list[str] | None = None
    limit: int | None = None
    enabled: bool | None = None
    kinds: list[str] | None = None


STORED = Thing(display_name="Kept", note="n", tags=["a"], limit=3, enabled=False, kinds=["image"])


def test_an_omitted_field_is_not_sent() -> None:
    assert ThingUpdate.model_validate({"note": "x"}).sent_fields() == {"note": "x"}
    assert ThingUpdate().sent_fields() == {}


@pytest.mark.parametrize(("field", "cleared"), [("note", ""), ("tags", []), ("limit", None)])
def test_a_null_takes_the_records_empty_default(field: str, cleared: object) -> None:
    changes = ThingUpdate.model_validate({field: None})

    assert changes.sent_fields() == {field: cleared}
    assert getattr(merged(STORED, changes.sent_fields()), field) == cleared


@pytest.mark.parametrize("field", ["displayName", "enabled", "kinds"])
def test_a_null_on_a_field_without_an_empty_default_is_refused(field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ThingUpdate.model_validate({field: None})

    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


def test_the_merged_record_is_validated_and_its_problems_named_as_on_the_wire() -> None:
    with pytest.raises(InvalidInput) as raised:
        merged(STORED, {"display_name": "", "enabled": None, "note": "fine"})

    assert raised.value.status_code == 422
    assert [problem["loc"] for problem in raised.value.problems] == [["body", "displayName"], ["body", "enabled"]]
    assert raised.value.detail.startswith("invalid update: displayName:")


def test_the_merged_record_shares_nothing_with_the_stored_one_or_the_changes() -> None:
    tags = ["b"]

    result = merged(STORED, {"tags": tags})
    tags.append("changed later")

    assert result.tags == ["b"]
    assert result.kinds == STORED.kinds
    assert result.kinds is not STORED.kinds
