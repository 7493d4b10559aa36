"""The base of every model that crosses HTTP: camelCase out, camelCase or snake_case in, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """camelCase out, camelCase or snake_case in."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
