"""The sim package is numpy only: importing every nmsat.sim module pulls in neither torch nor amaranth."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import nmsat.sim
names = [m.name for m in pkgutil.iter_modules(nmsat.sim.__path__)]
for name in names:
    importlib.import_module(f"nmsat.sim.{name}")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "amaranth"))
print(len(names), heavy)
"""


def test_sim_imports_no_torch_or_amaranth():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    count, heavy = out.stdout.split(" ", 1)
    assert int(count) >= 8
    assert heavy.strip() == "[]"
