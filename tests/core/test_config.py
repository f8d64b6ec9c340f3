"""Config: defaults, TOML round-trip, validation with one-line errors."""

import re

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
    ("[array]\nrows = -1\n", "config [array] rows = -1: must be >= 1"),
    ("[array]\nrows = 'a'\n", "config [array] rows = 'a': expected an integer"),
    ("[array]\nrows = true\n", "config [array] rows = True: expected an integer"),
    ("[array]\nrows = 9223372036854775807\n", "rows = 9223372036854775807: must be <= 4096"),
    ("[array]\ncols = 4097\n", "cols = 4097: must be <= 4096"),
    ("[array]\ndata_width = 8.5\n", "data_width = 8.5: expected an integer"),
    ("[array]\nclock_mhz = inf\n", "clock_mhz = inf: must be finite"),
    ("[array]\nclock_mhz = nan\n", "clock_mhz = nan: must be finite"),
    ("[array]\nclock_mhz = 0.0\n", "clock_mhz = 0.0: must be >= 0.001"),
    ("[array]\ndataflows = ['ws', 'ws']\n", "dataflows ['ws', 'ws']: duplicate"),
    ("[array]\npatterns = ['\u00b2:8']\n", "bad N:M pattern"),
    ("[projection]\ndram_gbps = 5e-324\n", "dram_gbps = 5e-324: denormal"),
    ("[projection]\ndram_gbps = inf\n", "dram_gbps = inf: must be finite"),
    ("[memory]\nweight_spad_kib = inf\n", "weight_spad_kib = inf: must be finite"),
    ("[memory]\nact_spad_kib = 1e300\n", "act_spad_kib = 1e+300: must be <= 1.07374e+09"),
    ("[projection]\ndouble_buffer = 1\n", "double_buffer = 1: expected true or false"),
    ("[energy]\nstatic_mw = inf\n", "static_mw = inf: must be finite"),
    ("[topn]\nlanes = 0\n", "lanes = 0: must be >= 1"),
    ("name = 5\n", "config name = 5: expected a string"),
    ("a = " + "[" * 2000 + "]" * 2000 + "\n", "nested too deeply"),
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
    with pytest.raises(NmsatError, match=re.escape(message)) as e:
        load_config(path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("data, message", [
    (b"\x00\x01\xff\xfe binary", "not UTF-8 text"),
    ("[array]\nrows = 4\n# caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
])
def test_binary_config_is_one_line(tmp_path, data, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    with pytest.raises(NmsatError, match=message):
        load_config(path)


@pytest.mark.parametrize("section, change, message", [
    ("array", {"rows": 2**70}, "must be <= 4096"),
    ("array", {"clock_mhz": float("inf")}, "must be finite"),
    ("energy", {"mac_pj": float("inf")}, "must be finite"),
    ("projection", {"dram_gbps": 1e-310}, "denormal"),
])
def test_python_built_configs_are_validated(section, change, message):
    with pytest.raises(NmsatError, match=message):
        default_config().replace(**{section: change})
    fields = {**getattr(default_config(), section).__dict__, **change}
    with pytest.raises(NmsatError, match=message):
        type(getattr(default_config(), section))(**fields)


def test_shipped_configs_load_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the repository
    assert load_config("hw-small").name == "hw-small"
    assert load_config("default") == default_config()
    with pytest.raises(NmsatError, match="no such file or shipped config"):
        load_config("hw-huge")


def test_missing_file_and_pattern_support():
    with pytest.raises(NmsatError, match="No such file"):
        load_config("/nonexistent/x.toml")
    arr = default_config().replace(array={"patterns": ["2:4"]}).array
    assert arr.supports(None) and arr.supports("2:4") and not arr.supports("2:8")
    with pytest.raises(NmsatError, match="pattern 2:8 is not supported by this array"):
        arr.check_pattern("2:8")
    with pytest.raises(NmsatError, match="missing key"):
        from_dict({"array": {"rows": 1}})
