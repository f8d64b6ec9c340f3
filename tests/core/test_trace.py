"""Trace schema: round-trip with masks, versioning, malformed files rejected with the field named."""

import json

import numpy as np
import pytest

from nmsat import trace
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern, nm_mask


def _trace():
    w = np.random.default_rng(0).normal(size=(6, 8, 3, 3))
    masks = {"conv1": {"ff": nm_mask(w, "2:4", axis=1), "bp": nm_mask(w, "2:4", axis=0)}}
    gemms = (trace.Gemm("conv1", "FF", 512, 6, 72, NMPattern(2, 4)),
             trace.Gemm("conv1", "BP", 512, 72, 6, NMPattern(2, 4)),
             trace.Gemm("conv1", "WG", 6, 72, 512, im2col=(1.0, 9.0, 1.0)),
             trace.Gemm("attn", "FF", 64, 64, 16, count=4))
    nongemm = (trace.NonGemm("bn1", "FF", "native_batch_norm", 4608, 4608, 36864),
               trace.NonGemm("bn1", "BP", "native_batch_norm_backward", 9216, 4608, 55296))
    return trace.Trace("toy", "bdwp", NMPattern(2, 4), 8, gemms, step=3, masks=masks, nongemm=nongemm)


def test_round_trip_with_masks(tmp_path):
    t = _trace()
    path = tmp_path / "t.json"
    t.save(path)
    back = trace.load(path)
    assert back.gemms == t.gemms and back.pattern == t.pattern and back.step == 3
    assert back.nongemm == t.nongemm and back.nongemm[1].elements == 9216
    for kind in ("ff", "bp"):
        assert np.array_equal(back.masks["conv1"][kind], t.masks["conv1"][kind])
    assert t.gemms[3].macs == 64 * 64 * 16 * 4


def test_version_1_file_loads_without_nongemm():
    obj = json.loads(_trace().to_json())
    assert obj["version"] == 2
    obj["version"] = 1
    del obj["nongemm"]
    back = trace.from_json(json.dumps(obj))
    assert back.gemms == _trace().gemms and back.nongemm == ()


def _mutate(change):
    obj = json.loads(_trace().to_json())
    change(obj)
    return json.dumps(obj)


@pytest.mark.parametrize("change, message", [
    (lambda o: o.update(version=3), "unsupported trace version 3"),
    (lambda o: o.update(version=True), "unsupported trace version True"),
    (lambda o: o.pop("nongemm"), "missing key 'nongemm'"),
    (lambda o: o["nongemm"][1].update(bytes=-5), r"nongemm\[1\].bytes: must be an int >= 0, got -5"),
    (lambda o: o["nongemm"][0].update({"pass": "WG"}), r"nongemm\[0\].pass: unknown pass 'WG'"),
    (lambda o: o["nongemm"].append(7), r"nongemm\[2\]: expected an object"),
    (lambda o: o.update(schema="x"), "not an nmsat trace"),
    (lambda o: o.update(method="magic"), "unknown method 'magic'"),
    (lambda o: o["gemms"][1].update(m=-1), r"gemms\[1\].m: must be a positive int, got -1"),
    (lambda o: o["gemms"][0].update(k="7"), r"gemms\[0\].k: expected int"),
    (lambda o: o["gemms"][0].update({"pass": "XX"}), "unknown pass 'XX'"),
    (lambda o: o["gemms"][0].update(sparse="8:4"), "bad N:M pattern 8:4"),
    (lambda o: o["gemms"][0].pop("layer"), "missing key 'layer'"),
    (lambda o: o["gemms"][2].update(im2col=[1, 0.5, 1]), r"gemms\[2\].im2col: expected three numbers >= 1"),
    (lambda o: o["masks"]["conv1"]["ff"].update(bits="AAAA"), "do not hold a mask of shape"),
    (lambda o: o["masks"]["conv1"]["ff"].update(bits="!!"), "not valid base64"),
    (lambda o: o["gemms"][0].update(m=10**100), r"gemms\[0\]: gemm conv1 FF m = ~2\*\*332: must be <= 1099511627776"),
    (lambda o: o["gemms"][0].update(n=1e12), r"gemms\[0\].n: expected int"),
    (lambda o: o["gemms"][3].update(count=0), r"gemms\[3\].count: must be a positive int, got 0"),
    (lambda o: o["gemms"][2].update(im2col=[]), r"gemms\[2\].im2col: expected three numbers"),
    (lambda o: o["gemms"][2].update(im2col=[1, float("inf"), 1]), "gemm conv1 WG im2col = inf: must be finite"),
    (lambda o: o["gemms"][2].update(im2col=[1, float("nan"), 1]), "expected three numbers >= 1"),
    (lambda o: o.update(gemms=[]), "trace gemms: empty"),
    (lambda o: o.update(batch=2**40), "trace batch = 1099511627776: must be <= 2147483648"),
    (lambda o: o.update(pattern="2:8"), "trace pattern 2:8: its GEMMs are sparse 2:4"),
    (lambda o: o.update(pattern="4:4"), "bad N:M pattern 4:4"),
    (lambda o: o["gemms"][1].update(sparse="1:4"), r"mixed sparse patterns \['1:4', '2:4'\]"),
    (lambda o: o.update(method="dense"), "trace method 'dense': has an N:M pattern"),
    (lambda o: o["masks"].update(conv9=o["masks"]["conv1"]), "masks.conv9: no FF GEMM of that layer"),
    (lambda o: o["masks"]["conv1"]["ff"].update(shape=[6, 72], bits=o["masks"]["conv1"]["ff"]["bits"]),
     r"masks.conv1.ff: not 2:4 along axis 1"),
    (lambda o: o["masks"]["conv1"]["ff"].update(shape=[432]), r"masks.conv1.ff: expected a boolean weight-shaped"),
])
def test_malformed_trace_rejected(change, message):
    with pytest.raises(NmsatError, match=message) as e:
        trace.from_json(_mutate(change), source="t.json")
    assert "\n" not in str(e.value)


def test_not_json_and_missing_file():
    with pytest.raises(NmsatError, match="not valid JSON"):
        trace.from_json("{", source="t.json")
    with pytest.raises(NmsatError, match="No such file"):
        trace.load("/nonexistent/t.json")


def test_deep_and_binary_trace_files_are_one_line(tmp_path):
    with pytest.raises(NmsatError, match="nested too deeply"):
        trace.from_json("[" * 100000 + "]" * 100000, source="t.json")
    path = tmp_path / "t.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(NmsatError, match="not UTF-8 text"):
        trace.load(path)


def _masks(ff):
    return {"conv1": {"ff": ff}}


@pytest.mark.parametrize("make, message", [
    (lambda: trace.Gemm("x", "FF", "8", 1, 1), "gemm x FF m = '8': expected an integer"),
    (lambda: trace.Gemm("x", "FF", True, 1, 1), "gemm x FF m = True: expected an integer"),
    (lambda: trace.Gemm("x", "FF", 8, 8, 8, count=0), "gemm x FF count = 0: must be >= 1"),
    (lambda: trace.Gemm("x", "XX", 8, 8, 8), "gemm pass 'XX': unknown"),
    (lambda: trace.Gemm("x", "FF", 8, 8, 8, im2col=(1, 1)), "gemm x FF im2col"),
    (lambda: trace.Gemm("x", "FF", 8, 8, 8, im2col=(1, 0.5, 1)), "must be >= 1"),
    (lambda: trace.Gemm("x", "FF", 8, 8, 8, sparse="4:4"), "bad N:M pattern 4:4"),
    (lambda: trace.Trace("t", "bdwp", "4:4", 8, _trace().gemms), "bad N:M pattern 4:4"),
    (lambda: trace.Trace("t", "bdwp", None, 8, ()), "trace gemms: empty"),
    (lambda: trace.Trace("t", "magic", None, 8, _trace().gemms), "trace method 'magic'"),
    (lambda: trace.Trace("t", "bdwp", "2:4", 0, _trace().gemms), "trace batch = 0"),
    (lambda: trace.Trace("t", "bdwp", "2:4", 8, _trace().gemms, masks=_masks(np.ones((6, 8, 3, 3), bool))),
     "masks.conv1.ff: not 2:4 along axis 1"),
    (lambda: trace.Trace("t", "bdwp", "2:4", 8, _trace().gemms, masks=_masks(np.zeros((6, 8, 3), bool))),
     r"masks.conv1.ff: shape \(6, 8, 3\) does not match"),
    (lambda: trace.Trace("t", "bdwp", None, 8, _trace().gemms[2:], masks=_masks(np.zeros((6, 8, 3, 3), bool))),
     "masks.conv1: no FF GEMM"),
])
def test_python_api_validates_in_constructors(make, message):
    with pytest.raises(NmsatError, match=message) as e:
        make()
    assert "\n" not in str(e.value)
