"""The trace cache: a miss extracts and stores the trace, a hit returns the same trace without importing torch."""

import subprocess
import sys

from nmsat import trace_cache

HIT = """
import sys
from nmsat.trace_cache import cached_trace
t = cached_trace("mlp", "digits", 4, "bdwp", "2:8")
print(len(t.gemms), "torch" in sys.modules)
"""


def test_miss_stores_and_hit_needs_no_torch(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path))
    first = trace_cache.cached_trace("mlp", "digits", 4, "bdwp", "2:8")
    (entry,) = (tmp_path / "traces").glob("*.json")
    assert entry.name == trace_cache.key("mlp", "digits", 4, "bdwp", "2:8") + ".json"
    assert trace_cache.cached_trace("mlp", "digits", 4, "bdwp", "2:8") == first
    out = subprocess.run([sys.executable, "-c", HIT], capture_output=True, text=True, check=True,
                         env={"NMSAT_CACHE": str(tmp_path), "PATH": ""}).stdout.split()
    assert out == [str(len(first.gemms)), "False"]


def test_keys_differ_per_setting():
    keys = {trace_cache.key("mlp", "digits", b, m, p) for b in (4, 8) for m, p in (("bdwp", "2:8"), ("srste", "2:8"),
                                                                                    ("bdwp", "2:4"))}
    assert len(keys) == 6


def test_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path))
    path = tmp_path / "traces" / (trace_cache.key("mlp", "digits", 4, "dense", None) + ".json")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    t = trace_cache.cached_trace("mlp", "digits", 4, "dense", "2:8")
    assert t.gemms and trace_cache.cached_trace("mlp", "digits", 4, "dense", None) == t
