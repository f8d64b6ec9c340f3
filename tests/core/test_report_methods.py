"""The training-methods table: CPU benchmark results read back, and the recommendation rule."""

import json

import pytest

from nmsat.errors import NmsatError
from nmsat.report.methods import cpu_overheads, recommendation


def _row(method, mean, std, speedup, topn, bp="along out"):
    return {"method": method, "pattern": "2:8", "acc_mean": mean, "acc_std": std, "speedup": speedup,
            "topn_cycles": topn, "topn_passes": 2, "mask_unit": "unit", "bp_operand": bp}


def test_recommendation_is_the_fastest_method_within_one_std_of_the_most_accurate():
    rows = [_row("dense", 0.99, 0.0, 1.0, 0), _row("srste", 0.985, 0.004, 1.3, 10, bp="dense"),
            _row("bdwp", 0.980, 0.01, 1.78, 20), _row("transposable", 0.950, 0.02, 1.9, 40),
            _row("bimask", 0.983, 0.005, 1.78, 25)]
    text = recommendation(rows)
    # best N:M accuracy: srste 0.985 +- 0.004 -> bdwp (0.980) is out, bimask (0.983) in, transposable out
    assert "**bimask**" in text and "srste" in text
    rows[1]["acc_std"] = 0.01  # now bdwp is in too: same speedup as bimask, fewer top-N cycles
    text = recommendation(rows)
    assert "**bdwp**" in text and "tied with bimask (25 top-N cycles)" in text
    assert "No accuracy" in recommendation([_row("bdwp", None, None, 1.7, 1)])


def test_cpu_overheads_from_the_benchmark_file(tmp_path):
    path = tmp_path / "bench.json"
    assert cpu_overheads(path) == ({}, None)
    path.write_text(json.dumps({"pattern": "2:8", "rows": [{"model": "resnet18", "method": "bdwp", "vs_dense": 1.08}]}))
    ratios, meta = cpu_overheads(path)
    assert ratios == {("resnet18", "bdwp", "2:8"): 1.08} and meta["pattern"] == "2:8"
    path.write_text("{")
    with pytest.raises(NmsatError, match="unreadable"):
        cpu_overheads(path)
