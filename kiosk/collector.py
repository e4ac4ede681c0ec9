"""The cyclic garbage collector in the long-running processes (the kiosk, the server's
workers): what start-up made is frozen out of its sight once start-up is over."""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_start_up_objects() -> int:
    """Move what a long-running process made while it started (modules, classes, SQLAlchemy's
    mappers, pydantic's validators, a kiosk's widgets: ~100,000 objects that live until it
    exits) out of the collector's sight (`gc.freeze`). A full collection then walks only what
    was made since, not all of it again each time (120-200 ms on a kiosk PC, landing in
    whichever tap or request triggered it). The collector runs again from here: the `kiosk`
    command pauses it while it loads (kiosk/__main__.py). Returns how many objects are frozen.
    """
    gc.collect()
    gc.freeze()
    gc.enable()
    frozen = gc.get_freeze_count()
    log.debug("%d objects frozen out of the garbage collector", frozen)
    return frozen
