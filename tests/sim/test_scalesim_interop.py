"""SCALE-Sim topologies and configs: hand-derived GEMMs, the config mapping, and `nmsat simulate` on them."""

import subprocess
import sys

import pytest

from nmsat.config import default_config
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern
from nmsat.sim import scalesim
from nmsat.trace import Gemm

CONV = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1,224,224,7,7,3,64,2,
Conv3_s,56,56,1,1,64,128,2,
DP4,14,14,3,3,32,1,1,
FC,1,1,1,1,512,1000,1,2:4
"""
GEMM = "Layer, M, N, K,\nQK,128,128,64,\nProj,128,256,512,1:4,\n"
CFG = """[general]
run_name = t

[architecture_presets]
ArrayHeight:    16
ArrayWidth:     8
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : {df}
MemoryBanks:   1

[sparsity]
SparsitySupport : {sparse}

[run_presets]
InterfaceBandwidth: {bw}
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_conv_rows_follow_scalesim_output_rows(tmp_path):
    gemms = scalesim.read_topology(_write(tmp_path, "r.csv", CONV))
    # ceil((224 - 7 + 2) / 2) = 110 (PyTorch's unpadded conv: 109); ceil((56 - 1 + 2) / 2) = 29 (PyTorch: 28)
    assert gemms[0] == Gemm("Conv1", "FF", 110 * 110, 64, 7 * 7 * 3)
    assert gemms[1] == Gemm("Conv3_s", "FF", 29 * 29, 128, 64)
    assert gemms[2] == Gemm("DP4", "FF", 12 * 12, 1, 9, None, 32)  # depthwise: one GEMM per channel
    assert gemms[3] == Gemm("FC", "FF", 1, 1000, 512, NMPattern(2, 4))
    assert scalesim.out_rows(224, 7, 2) == 110 and scalesim.out_rows(56, 3, 1) == 54


def test_gemm_form_and_training_step(tmp_path):
    path = _write(tmp_path, "g.csv", GEMM)
    qk, proj = scalesim.read_topology(path)
    assert qk == Gemm("QK", "FF", 128, 128, 64) and proj == Gemm("Proj", "FF", 128, 256, 512, NMPattern(1, 4))
    step = scalesim.topology_trace(path, training=True)
    assert [(g.layer, g.pass_, g.m, g.n, g.k, g.sparse) for g in step.gemms] == [
        ("QK", "FF", 128, 128, 64, None), ("Proj", "FF", 128, 256, 512, NMPattern(1, 4)),
        ("Proj", "BP", 128, 512, 256, NMPattern(1, 4)), ("Proj", "WG", 256, 512, 128, None),
        ("QK", "WG", 128, 64, 128, None)]  # the first layer's input is the data: no BP
    assert step.pattern == NMPattern(1, 4) and step.batch == 1
    assert all(g.sparse is None for g in scalesim.topology_trace(path, sparsity=False).gemms)


def test_config_maps_array_srams_and_bandwidth(tmp_path):
    base = default_config()
    cfg, support = scalesim.read_config(_write(tmp_path, "a.cfg", CFG.format(df="os", sparse="true", bw="USER")),
                                        base, [NMPattern(2, 4), NMPattern(1, 4)])
    a, m = cfg.array, cfg.memory
    assert (a.rows, a.cols, a.dataflows, a.max_row_groups, a.mults_per_pe) == (16, 8, ("os",), 1, 2) and support
    assert {str(p) for p in a.patterns} == {"2:4", "1:4"}
    assert (m.act_spad_kib, m.weight_spad_kib, m.out_spad_kib) == (64, 32, 16)
    assert cfg.projection.enabled and cfg.projection.dram_gbps == pytest.approx(10 * 2 * 200e6 / 1e9)  # 10 words x 16 b
    cfg, support = scalesim.read_config(_write(tmp_path, "b.cfg", CFG.format(df="ws", sparse="false", bw="CALC")),
                                        base, [NMPattern(2, 4)])
    assert not support and cfg.array.patterns == () and cfg.array.mults_per_pe == 1
    assert cfg.projection.dram_gbps == scalesim.STALL_FREE_GBPS


@pytest.mark.parametrize("text,bad", [
    ("Layer, M, N, K,\nQK,128,x,64,\n", "N 'x'"),
    ("Layer, M, N, K,\nQK,128,64,\n", "got 3 fields"),
    (CONV.replace("224,224,7,7", "5,5,7,7"), "larger than the IFMAP"),
    ("Layer, M, N, K,\nQK,8,8,8,4:2,\n", "sparsity"),
    ("Layer, M, N, K,\n", "at least one layer"),
])
def test_bad_topology_rejected(tmp_path, text, bad):
    with pytest.raises(NmsatError, match=bad):
        scalesim.read_topology(_write(tmp_path, "t.csv", text))


@pytest.mark.parametrize("df,bw,bad", [("is", "CALC", "Dataflow 'is'"), ("ws", "GIVEN", "InterfaceBandwidth")])
def test_bad_config_rejected(tmp_path, df, bw, bad):
    with pytest.raises(NmsatError, match=bad):
        scalesim.read_config(_write(tmp_path, "c.cfg", CFG.format(df=df, sparse="false", bw=bw)), default_config())


def run(*args):
    return subprocess.run([sys.executable, "-m", "nmsat", "simulate", *args], capture_output=True, text=True)


def test_cli_forward_and_training(tmp_path):
    topo = _write(tmp_path, "g.csv", GEMM)
    cfg = _write(tmp_path, "a.cfg", CFG.format(df="ws", sparse="true", bw="CALC"))
    fwd = run("--scalesim-topology", str(topo), "--scalesim-config", str(cfg), "-o", str(tmp_path / "f.json"))
    assert fwd.returncode == 0, fwd.stderr
    assert "g forward (SCALE-Sim topology" in fwd.stdout and "1:4" in fwd.stdout
    step = run("--scalesim-topology", str(topo), "--scalesim-config", str(cfg), "--training")
    assert step.returncode == 0, step.stderr
    assert "g bdwp/best/pregen pattern=1:4" in step.stdout


@pytest.mark.parametrize("extra,bad", [(["--pattern", "2:4"], "--pattern applies to --training"),
                                       (["--model", "resnet18"], "replaces --model")])
def test_cli_rejects_mixed_requests(tmp_path, extra, bad):
    out = run("--scalesim-topology", str(_write(tmp_path, "g.csv", GEMM)), *extra)
    assert out.returncode == 2 and bad in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_config_without_topology_rejected(tmp_path):
    out = run("--model", "resnet18", "--training")
    assert out.returncode == 2 and "go with --scalesim-topology" in out.stderr
