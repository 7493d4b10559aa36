"""A served process's heap, frozen out of the collector's sight once what it keeps is loaded.

CPython's cyclic collector walks every tracked object of its oldest generation on each full collection. The
inference API loads Strands, the providers' models and their SDKs after it starts (providers/warm_up.py): some
1,500 modules and 250,000 long-lived objects. Every full collection walked them again, about 100 ms on this
machine, every few hundred turns under load: 0.35 ms a turn on average, and a 100 ms stall for the turn it fell
on. One collection, then `gc.freeze()`, moves what is left to the permanent generation, and later collections
walk only what the process allocates from then on (about 1 ms). A frozen object is still freed when its last
reference goes; only a cycle among frozen objects would outlive them, and the collection just before leaves none.

Each service settles once started, after its warm-up (bootstrap.py), in a process `colloquy serve` has armed.
Tests and tools never arm it: freezing a test process over and over would keep every test's garbage cycles.
"""

from __future__ import annotations

import gc
import logging
import threading

logger = logging.getLogger(__name__)

_armed = threading.Event()


def arm() -> None:
    """Mark this process as a served one: the next `settle` freezes its heap."""
    _armed.set()


def settle() -> None:
    """Once per armed process, and never in one that is not: `freeze`."""
    if not _armed.is_set():
        return
    _armed.clear()
    freeze()


def freeze() -> None:
    """Collect, then freeze what is left (the benchmark's relay, fakes and load client call it directly)."""
    gc.collect()
    gc.freeze()
    logger.info("heap settled: %d objects frozen", gc.get_freeze_count())
