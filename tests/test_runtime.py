"""A web worker's start (governance/runtime.py): what it loaded frozen, the collector's thresholds set."""

from __future__ import annotations

import gc

import pytest

from governance.runtime import tune_gc
from tests.test_settings import clean_env, run_python


@pytest.fixture
def collector():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_it_freezes_what_was_loaded_and_sets_the_thresholds(settings, collector):
    settings.GC_THRESHOLDS = [1234, 5, 6]
    tune_gc()
    assert gc.get_threshold() == (1234, 5, 6)
    assert gc.get_freeze_count() > 0


def test_empty_thresholds_leave_pythons_collector(settings, collector):
    settings.GC_THRESHOLDS = []
    before = gc.get_threshold()
    tune_gc()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.mark.parametrize("module", ["governance.wsgi", "governance.asgi"])
def test_the_server_entry_points_tune_the_collector(tmp_path, module):
    code = f"import gc, {module}; print(gc.get_threshold(), gc.get_freeze_count() > 0)"
    result = run_python(code, clean_env(tmp_path, GC_THRESHOLDS="5000,7,9"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "(5000, 7, 9) True"
    result = run_python(code, clean_env(tmp_path, GC_THRESHOLDS=""))
    assert result.stdout.strip().splitlines()[-1] == "(700, 10, 10) False"  # Python's own
