"""A plain wheel carries all four packages (nmsat, nmsat.hw, nmsat.sim, nmsat.algo) and the shipped configs."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_every_layer(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("nmsat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("nmsat/__init__.py", "nmsat/hw/datapath/pe.py", "nmsat/sim/tile.py", "nmsat/algo/layers.py",
                   "nmsat/commands/simulate.py", "nmsat/report/build.py", "nmsat/data/default.toml",
                   "nmsat/data/hw-small.toml", "nmsat/sim/budget.py", "nmsat/hw/datapath/fp_mac.py",
                   "nmsat/hw/flow/timing.py", "nmsat/sim/fp.py", "nmsat/hw/memory/read_dma.py",
                   "nmsat/hw/control/loop_engine.py", "nmsat/explore/run.py"):
        assert module in names, module
