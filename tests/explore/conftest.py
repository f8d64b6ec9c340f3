"""A small sweep for the explore tests: a two-layer trace file and a spec over array shape and patterns."""

import pytest

from nmsat.explore.spec import parse
from nmsat.nm import NMPattern
from nmsat.trace import Gemm, Trace


def small_trace():
    p = NMPattern.parse("2:8")
    gemms = (Gemm("fc1", "FF", 64, 128, 256, p), Gemm("fc1", "BP", 64, 256, 128, p), Gemm("fc1", "WG", 128, 256, 64),
             Gemm("fc2", "FF", 64, 10, 128, p), Gemm("fc2", "BP", 64, 128, 10, p), Gemm("fc2", "WG", 10, 128, 64))
    return Trace(model="mlp2", method="bdwp", pattern=p, batch=64, gemms=gemms)


@pytest.fixture
def sweep_spec(tmp_path):
    path = tmp_path / "trace.json"
    small_trace().save(path)
    return parse({"name": "t", "methods": ["dense", "bdwp"], "patterns": ["2:8", "2:4"],
                  "sweep": {"array.rows": [16, 32], "array.cols": [16, 32],
                            "array.patterns": [["2:4", "2:8"], ["2:8"]]},
                  "workload": [{"trace": str(path)}]})
