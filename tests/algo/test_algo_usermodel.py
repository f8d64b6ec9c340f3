"""Bring your own model: factories by module path or file path on workload / simulate / train."""

import pytest
import torch

from nmsat.algo.workload import model_trace
from nmsat.cli import main
from nmsat.trace import load

FILE_MODEL = '''
from torch import nn

def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

def broken():
    raise ValueError("no weights here")
'''


def _run(capsys, *argv):
    threads = torch.get_num_threads()
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "my_net.py"
    path.write_text(FILE_MODEL)
    return path


def test_workload_of_a_file_factory_prints_step_macs(capsys, model_file, tmp_path):
    code, out, _ = _run(capsys, "workload", "--model", f"{model_file}:mlp", "--input-shape", "1,8,8",
                        "--batch", "4", "--method", "dense", "-o", str(tmp_path / "t.json"))
    # FF 4*64*32 + 4*32*10; WG the same; BP only for the second Linear (the first one's input is data)
    step = 2 * (4 * 64 * 32 + 4 * 32 * 10) + 4 * 32 * 10
    assert code == 0 and f"step: {step / 1e9:8.4f} GMACs dense" in out and "non-GEMM FF: " in out
    assert sum(g.macs for g in load(tmp_path / "t.json").gemms) == step


def test_module_factory_traces_a_transformer():
    t = model_trace("user_models:encoder", batch=2, method="bdwp", pattern="2:8", shape="5,16")
    assert t.model == "user_models:encoder" and {g.layer for g in t.gemms} >= {"self_attn", "linear1", "linear2"}
    assert any(o.op == "native_layer_norm" for o in t.nongemm)


def test_simulate_takes_a_factory_model(capsys):
    code, out, _ = _run(capsys, "simulate", "--model", "user_models:encoder", "--input-shape", "5,16", "--batch", "2")
    assert code == 0 and "user_models:encoder bdwp/" in out and " cycles" in out


def test_train_takes_a_file_factory(capsys, model_file, tmp_path):
    code, out, _ = _run(capsys, "train", "--model", f"{model_file}:mlp", "--method", "bdwp", "--pattern", "2:8",
                        "--epochs", "1", "-o", str(tmp_path / "runs"), "--no-progress")
    assert code == 0 and "bdwp         2:8" in out
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1 and load(runs[0] / "trace_last.json").masks


@pytest.mark.parametrize("argv,bad", [
    (["workload", "--model", "user_models:encoder"], "--input-shape"),
    (["workload", "--model", "user_models:encoder", "--input-shape", "5,x"], "5,x"),
    (["workload", "--model", "user_models:encoder", "--input-shape", "7,3"], "does not accept input shape (7, 3)"),
    (["workload", "--model", "no_such_pkg.nets:make", "--input-shape", "3"], "cannot import 'no_such_pkg.nets'"),
    (["workload", "--model", "user_models:missing", "--input-shape", "3"], "no callable 'missing'"),
    (["workload", "--model", "user_models:not_a_module", "--input-shape", "3"], "returned int, not an nn.Module"),
    (["workload", "--model", "/nonexistent/net.py:make", "--input-shape", "3"], "no such file"),
    (["workload", "resnet18", "--input-shape", "3,32,32"], "built-in 'resnet18' takes --input"),
    (["workload", "resnet18", "--model", "mlp"], "give the model once"),
    (["simulate", "--model", "user_models:encoder"], "--input-shape"),
    (["train", "--model", "user_models:missing", "-o", "OUT"], "no callable 'missing'"),
])
def test_bad_factory_requests_exit_2_with_one_line(capsys, tmp_path, argv, bad):
    code, _, err = _run(capsys, *[str(tmp_path) if a == "OUT" else a for a in argv])
    assert code == 2 and len(err.strip().splitlines()) == 1 and bad in err


def test_factory_that_raises_is_one_line(capsys, model_file):
    code, _, err = _run(capsys, "workload", "--model", f"{model_file}:broken", "--input-shape", "1,8,8")
    assert code == 2 and "the factory raised ValueError: no weights here" in err
