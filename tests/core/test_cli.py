"""CLI shell: help on every command, bad input as one line with exit 2, atomic writes."""

import subprocess
import sys

import pytest

from nmsat import atomic
from nmsat.cli import cli


def _run(*args):
    return subprocess.run([sys.executable, "-m", "nmsat", *args], capture_output=True, text=True)


def test_help_lists_commands_and_each_has_help():
    out = _run("--help")
    assert out.returncode == 0 and "Commands:" in out.stdout
    for name in cli.list_commands(None):
        sub = _run(name, "--help")
        assert sub.returncode == 0 and "Usage:" in sub.stdout, name


def test_unknown_command_is_one_line_exit_2():
    out = _run("frobnicate")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "frobnicate" in out.stderr


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    atomic.write_text(target, "whole")
    assert target.read_text() == "whole"
