"""What a web worker does once it has loaded the app, before its first request."""

from __future__ import annotations

import gc

from django.conf import settings


def tune_gc() -> None:
    """Freeze what the process has loaded (modules, URL patterns, compiled templates: never garbage,
    yet walked by every full collection) and collect at GC_THRESHOLDS instead of Python's (700,10,10),
    which pause a page view every few requests. Cycles are still collected, less often."""
    thresholds = settings.GC_THRESHOLDS
    if not thresholds:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
