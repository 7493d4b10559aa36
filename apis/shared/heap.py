"""A served process's heap, settled once the service is up: what it will need loaded, then frozen out of the
collector's sight (`colloquy serve` runs this on a thread of its own as a service starts).

CPython's cyclic collector walks every tracked object of its oldest generation on each full collection. A turn
imports Strands, its provider's model and their SDKs lazily (apis.shared serves the app API too, which needs
few of them): some 1,500 modules and 150,000 long-lived objects on the first turn. Every full collection then
walked them again, about 100 ms on this machine, every few hundred turns under load: 0.35 ms a turn on average,
and a 100 ms stall for the turn it fell on (bench.turns' Gemini p99). Loading them once the service answers,
collecting what start-up left, and `gc.freeze()` moves all of it to the permanent generation: later collections
walk only what the service allocates from then on. A frozen object is still freed when its last reference goes;
only a cycle among frozen objects would outlive them, and start-up leaves none after the collection.

The first turn no longer waits a second for those imports, either.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Callable

from apis.shared.observability import SUPPRESSED_ERRORS

logger = logging.getLogger(__name__)


def settle(preload: str | None, ready: Callable[[], bool]) -> None:
    """Once `ready()` says the service answers, call `preload` ("module:function", what the service loads ahead
    of its first request) if any, then collect and freeze the heap. A preload that fails is logged and skipped:
    the service loads the same modules when a request needs them, and fails there as before."""
    if not ready():
        return  # the service never came up: it reports that itself
    if preload is not None:
        module, _, function = preload.partition(":")
        try:
            getattr(importlib.import_module(module), function)()
        except Exception as exc:  # suppressed: a request that needs these modules imports them itself
            SUPPRESSED_ERRORS.labels(where="heap.preload").inc()
            logger.warning("could not load %s ahead of the first request", preload, exc_info=exc)
    gc.collect()
    gc.freeze()
    logger.info("heap settled: %d objects frozen", gc.get_freeze_count())
