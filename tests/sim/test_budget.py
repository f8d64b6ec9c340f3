"""The simulator's work bound: absurd GEMMs are refused with one line before anything is allocated."""

import pytest

from nmsat import cli
from nmsat.config import default_config, load_config
from nmsat.errors import NmsatError
from nmsat.sim import budget, network
from nmsat.sim.tiling import candidates, sequence, tile_arrays
from nmsat.trace import Gemm, Trace


@pytest.mark.parametrize("cfg", [default_config(), load_config("hw-small")])
@pytest.mark.parametrize("pattern", [None, "2:8"])
def test_tile_count_matches_the_tile_arrays(cfg, pattern):
    gemm = Gemm("x", "FF", 300, 70, 130)
    for d in cfg.array.dataflows:
        for t in candidates(gemm, cfg, pattern, d):
            tiles = sequence(tile_arrays(gemm, cfg, pattern, t), "cycles").size
            assert budget.tile_count(gemm, cfg, pattern, t) == tiles


@pytest.mark.parametrize("m", [2**40, 10**12])
def test_huge_gemm_is_refused_before_simulating(m):
    trace = Trace("big", "bdwp", "2:8", 1, (Gemm("fc", "FF", m, 64, 27, "2:8"), Gemm("fc", "WG", 64, 27, m)))
    with pytest.raises(NmsatError, match=f"GEMM fc FF \\({m} x 64 x 27\\) needs .* tiles .* more than the "
                       f"simulator handles \\({budget.MAX_TILES:,}\\)") as e:
        network.simulate(trace, default_config(), "bdwp")
    assert "\n" not in str(e.value)


def test_huge_batch_on_the_cli_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["simulate", "--model", "resnet18", "--batch", "1000000000"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "tiles" in err and "smaller batch" in err
