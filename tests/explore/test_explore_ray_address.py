"""`nmsat explore --ray-address`: a 4-point sweep on a separately started Ray head node equals in-process
(slow); joining enables token auth first and fails in one line (fast, Ray stubbed).

Ray 2.60 starts a head node with token authentication when this machine has a token (~/.ray/auth_token);
before the fix, `--ray-address` connected without it and hung ~20 s in retries, then failed. The head node
runs with ``--block`` in its own temp dir and is stopped by terminating that process (its reaper then ends
the node's processes): ``ray stop`` would also stop every other Ray on a shared machine.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

SPEC = ('name = "s"\nmethods = ["dense", "bdwp"]\npatterns = ["2:8"]\n[sweep]\n"array.rows" = [16, 32]\n'
        '[[workload]]\ntrace = "{trace}"\n')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_using(text):
    """Processes whose command line mentions `text` (the head node's own temp dir)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if text in (d / "cmdline").read_bytes().decode(errors="replace"):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


@pytest.fixture
def head_node():
    """A Ray head node with 2 CPUs on a free port; yields its address; stopped and checked gone after."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="nmsat-ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    ray_bin = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen([ray_bin, "start", "--head", "--block", "--num-cpus", "2", "--port", str(port),
                             "--temp-dir", temp, "--include-dashboard=false", "--disable-usage-stats"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert head.poll() is None and time.monotonic() < deadline, "ray head node did not start"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        head.wait(timeout=60)
        deadline = time.monotonic() + 30
        while pids_using(temp) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = pids_using(temp)
        for pid in left:  # only this node's processes: their command lines name its temp dir
            os.kill(pid, signal.SIGKILL)
        assert not left, f"head node processes still running after SIGTERM: {left}"


@pytest.mark.slow
def test_ray_address_equals_in_process(sweep_spec, tmp_path, head_node):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.format(trace=sweep_spec.workloads[0].trace))
    nmsat = [sys.executable, "-m", "nmsat", "explore", str(spec)]
    local = subprocess.run([*nmsat, "-o", str(tmp_path / "local.csv")], capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    t0 = time.monotonic()
    remote = subprocess.run([*nmsat, "-o", str(tmp_path / "ray.csv"), "--ray-address", head_node],
                            capture_output=True, text=True, timeout=300)
    assert remote.returncode == 0, remote.stderr[-2000:]
    assert "4 points (4 valid, 0 invalid)" in remote.stdout
    assert (tmp_path / "ray.csv").read_text() == (tmp_path / "local.csv").read_text()
    assert time.monotonic() - t0 < 120  # no silent minutes of retries



def test_join_switches_token_auth_on_and_refuses_a_cluster_without_cpus(monkeypatch):
    """Fast, with Ray's connect stubbed: token mode is enabled before ray.init, errors are one NmsatError."""
    import ray
    from ray._private.authentication import authentication_token_setup as auth

    from nmsat.errors import NmsatError
    from nmsat.explore.run import _join_cluster

    calls = []
    monkeypatch.setattr(auth, "maybe_enable_token_auth_if_token_available", lambda **kw: calls.append("auth"))
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(("init", kw["address"])))
    monkeypatch.setattr(ray, "shutdown", lambda: calls.append("shutdown"))
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 0.0})
    with pytest.raises(NmsatError, match="no CPUs"):
        _join_cluster(ray, "10.0.0.2:6379")
    assert calls == ["auth", ("init", "10.0.0.2:6379"), "shutdown"]

    def refuse(**kw):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.2:6379\nmore")

    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(NmsatError) as e:
        _join_cluster(ray, "10.0.0.2:6379")
    assert "\n" not in str(e.value) and "Failed to connect" in str(e.value) and "RAY_AUTH_TOKEN" in str(e.value)
