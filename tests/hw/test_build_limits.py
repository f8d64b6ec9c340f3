"""`nmsat verilog` / `nmsat area` refuse cores too big to build in reasonable time, naming size and limit."""

import pytest

from nmsat.config import default_config, load_config
from nmsat.errors import NmsatError
from nmsat.hw.params import MAX_BUILD_PES, MAX_BUILD_SPAD_KIB, check_buildable, core_params


def test_small_config_is_buildable():
    check_buildable(core_params(load_config("hw-small")))


@pytest.mark.parametrize("change, message", [
    ({}, f"a 32x32 array (1024 PEs) is too big to build here (limit {MAX_BUILD_PES} PEs"),
    ({"array": {"rows": 16, "cols": 17}}, "a 16x17 array (272 PEs)"),
    ({"array": {"rows": 4, "cols": 4}, "memory": {"act_spad_kib": 1024}},
     f"KiB are too big to build here (limit {MAX_BUILD_SPAD_KIB} KiB)"),
])
def test_too_big_is_one_line(change, message):
    cfg = default_config().replace(**change)
    with pytest.raises(NmsatError) as e:
        check_buildable(core_params(cfg))
    assert message in str(e.value) and "\n" not in str(e.value)
