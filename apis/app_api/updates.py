"""The update routes' one translation: an update whose merged record would be invalid is a malformed body.

The shared library finds it once the sent fields meet the stored record (`InvalidInput`); the client gets the
same 422 as for any body that fails validation, `errors` list included (apis/shared/http.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.exceptions import RequestValidationError

from apis.shared.errors import InvalidInput


@contextmanager
def merged_record_validated() -> Iterator[None]:
    """Around a service's update call: its `InvalidInput` leaves as a request validation error."""
    try:
        yield
    except InvalidInput as exc:
        raise RequestValidationError(exc.problems) from exc
