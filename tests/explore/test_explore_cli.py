"""`nmsat explore`: a sweep from a spec file writes CSV, summary and plot; a bad spec is one line, exit 2."""

import subprocess
import sys


def nmsat(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nmsat", *args], capture_output=True, text=True, cwd=cwd)


def test_explore_writes_results(sweep_spec, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(f'name = "s"\n[sweep]\n"array.rows" = [16, 32]\n[[workload]]\n'
                    f'trace = "{sweep_spec.workloads[0].trace}"\n')
    r = nmsat("explore", str(spec), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 points (2 valid, 0 invalid)" in r.stdout
    assert (tmp_path / "s.csv").exists() and (tmp_path / "s.md").exists() and (tmp_path / "s_0.png").exists()


def test_bad_spec_is_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text('[sweep]\n"array.rowz" = [1]\n[[workload]]\nmodel = "mlp"\n')
    r = nmsat("explore", str(spec), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "array.rowz" in r.stderr


def test_bad_fmax_is_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text('fmax = "board"\n[[workload]]\nmodel = "mlp"\n')
    r = nmsat("explore", str(spec), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "fmax = 'board'" in r.stderr
    assert not (tmp_path / "bad.csv").exists()
