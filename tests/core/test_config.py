"""Config: defaults, TOML round-trip, validation with one-line errors."""

import pytest

from nmsat.config import default_config, from_dict, load_config
from nmsat.errors import NmsatError
from nmsat.nm import NMPattern


def test_default_config_is_valid_and_frozen():
    cfg = default_config()
    assert cfg.array.rows == 32 and NMPattern(2, 8) in cfg.array.patterns
    assert cfg.array.reduction_per_cycle(None) == 4 and cfg.array.reduction_per_cycle("2:8") == 16
    with pytest.raises(AttributeError):
        cfg.array.rows = 4


def test_toml_round_trip(tmp_path):
    cfg = default_config().replace(array={"rows": 8, "patterns": ["2:4"]}, name="small")
    path = tmp_path / "c.toml"
    path.write_text(cfg.to_toml())
    assert load_config(path) == cfg


def test_partial_file_overrides_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[array]\nrows = 16\n[memory]\nbus_bytes = 64\n")
    cfg = load_config(path)
    assert (cfg.array.rows, cfg.array.cols, cfg.memory.bus_bytes, cfg.memory.read_latency) == (16, 32, 64, 40)


@pytest.mark.parametrize("text, message", [
    ("[array]\nrowz = 3\n", "config [array]: unknown key 'rowz'"),
    ("[array]\nrows = -1\n", "config [array] rows = -1: must be > 0"),
    ("[array]\nrows = 'a'\n", "config [array] rows = 'a': expected int"),
    ("[array]\npatterns = ['4:4']\n", "bad N:M pattern 4:4"),
    ("[array]\npatterns = ['3:4']\n", "3:4 needs N to divide mults_per_pe=4"),
    ("[array]\npatterns = ['1:6']\n", "1:6 needs M to be a power of two"),
    ("[array]\ndataflows = ['is']\n", "unknown dataflow 'is'"),
    ("[dram]\nx = 1\n", "unknown section or key 'dram'"),
    ("[array\n", "malformed TOML"),
    ("[energy]\nmac_pj = -2.0\n", "mac_pj = -2.0: must be >= 0"),
    ("[memory]\nbus_bytes = 48\n", "bus_bytes = 48: must be a power of two from 4 to 128"),
    ("[memory]\nread_latency = 1\n", "read_latency = 1: must be >= 2"),
])
def test_bad_config_rejected(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(NmsatError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        load_config(path)
    assert "\n" not in str(e.value)


def test_missing_file_and_pattern_support():
    with pytest.raises(NmsatError, match="No such file"):
        load_config("/nonexistent/x.toml")
    arr = default_config().replace(array={"patterns": ["2:4"]}).array
    assert arr.supports(None) and arr.supports("2:4") and not arr.supports("2:8")
    with pytest.raises(NmsatError, match="pattern 2:8 is not supported by this array"):
        arr.check_pattern("2:8")
    with pytest.raises(NmsatError, match="missing key"):
        from_dict({"array": {"rows": 1}})
