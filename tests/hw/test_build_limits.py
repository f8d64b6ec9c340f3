"""`nmsat verilog` / `nmsat area` refuse cores too big to build in reasonable time, naming size and limit."""

import pytest

from nmsat.config import default_config, load_config
from nmsat.core_params import MAX_BUILD_PES, MAX_BUILD_SPAD_KIB, check_buildable, core_params
from nmsat.errors import NmsatError


def test_small_config_is_buildable():
    check_buildable(core_params(load_config("hw-small")))


@pytest.mark.parametrize("change, message", [
    ({}, f"a 32x32 array (1024 PEs) is too big to build here (limit {MAX_BUILD_PES} PEs"),
    ({"array": {"rows": 16, "cols": 32}}, "a 16x32 array (512 PEs)"),
    ({"array": {"rows": 4, "cols": 4}, "memory": {"act_spad_kib": 2048, "bus_bytes": 16}},
     f"KiB are too big to build here (limit {MAX_BUILD_SPAD_KIB} KiB)"),
])
def test_too_big_is_one_line(change, message):
    cfg = default_config().replace(**change)
    with pytest.raises(NmsatError) as e:
        check_buildable(core_params(cfg))
    assert message in str(e.value) and "\n" not in str(e.value)
