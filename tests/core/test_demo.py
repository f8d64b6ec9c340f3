"""The demo runs end to end (short training, no RTL) and ends with its headline numbers."""

import subprocess
import sys


def test_demo_end_to_end(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nmsat", "demo", "-o", str(tmp_path), "--seeds", "1", "--epochs", "2",
                          "--rtl-cases", "0"], capture_output=True, text=True, cwd=tmp_path)  # outside the repo
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ResNet-18 CIFAR training step, BDWP 2:8 vs dense" in out.stdout
    assert "digits CNN test accuracy, bdwp 2:8" in out.stdout
    for path in ("report/README.md", "report/speedup.png", "verilog/nmsat_core.sv", "verilog/nmsat_core.json",
                 "train/accuracy.csv", "train/digits_cnn_bdwp_2-8_s0/trace_last.json"):
        assert (tmp_path / path).exists(), path
