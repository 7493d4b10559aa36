"""The words a managed model is described in, as the reference's admin form and Bedrock's catalogue spell them.

Modalities are upper case (`TEXT`, `IMAGE`, ...), the form's and Bedrock's vocabulary. Any case is accepted,
and the stored records of earlier versions, written in lower case, read back upper case: the validation that
reads a record is the migration, so no stored record needs rewriting and no start has to wait for one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

Modality = Literal["TEXT", "IMAGE", "DOCUMENT", "VIDEO", "AUDIO", "EMBEDDING"]


def _upper_case(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _each_once(modalities: list[Modality]) -> list[Modality]:
    """`["TEXT", "text"]` is one modality said twice: kept once, in the order first given."""
    return list(dict.fromkeys(modalities))


ModalityList = Annotated[
    list[Annotated[Modality, BeforeValidator(_upper_case)]], Field(max_length=20), AfterValidator(_each_once)
]


def _cutoff(value: Any) -> Any:
    """A blank date input sends "": no date. A full date must be a real one (2025-02-30 is refused)."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if len(value) == len("2025-01-31"):
            date.fromisoformat(value)  # ValueError, a 422 naming the field, for a date that does not exist
    return value


# The month (`2025-01`) or day (`2025-01-31`) a model's training data ends; the form's date input sends the day.
KnowledgeCutoff = Annotated[
    Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$")] | None, BeforeValidator(_cutoff)
]
