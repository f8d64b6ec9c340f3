"""Training on digits: the loss falls, runs are reproducible, artifacts and traces with real masks are written."""

import csv
import json

import numpy as np
import pytest
import torch

from nmsat.algo.sweep import accuracy_sweep
from nmsat.algo.train import train
from nmsat.errors import NmsatError
from nmsat.trace import load


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _full_groups_keep_n(mask, n, m, axis):
    moved = np.moveaxis(mask, axis, -1)
    full = moved.shape[-1] // m * m
    counts = moved[..., :full].reshape(*moved.shape[:-1], -1, m).sum(-1)
    tail = moved[..., full:].sum(-1)
    return (counts == n).all() and (tail == min(n, moved.shape[-1] - full)).all()


def test_bdwp_training_lowers_the_loss_and_writes_artifacts(tmp_path):
    r = train("digits_cnn", "bdwp", "2:8", seed=0, epochs=3, out_dir=tmp_path)
    assert r["train_loss"][-1] < 0.5 * r["train_loss"][0]
    assert r["test_acc"] > 0.8
    with open(tmp_path / "metrics.csv") as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [1, 2, 3]
    assert json.loads((tmp_path / "metrics.json").read_text())["test_acc"] == r["test_acc"]
    ckpt = torch.load(tmp_path / "checkpoint.pt")
    assert ckpt["config"]["method"] == "bdwp" and "3.weight" in ckpt["state_dict"]
    for name, step in (("trace_first.json", 0), ("trace_last.json", r["steps"] - 1)):
        t = load(tmp_path / name)
        assert t.step == step and t.method == "bdwp"
        sparse_ff = {g.layer for g in t.gemms if g.pass_ == "FF" and g.sparse is not None}
        assert set(t.masks) == sparse_ff == {"3", "9", "11"}
        for layer, kinds in t.masks.items():
            assert kinds["ff"].shape == ckpt["state_dict"][f"{layer}.weight"].shape
            assert _full_groups_keep_n(kinds["ff"], 2, 8, 1) and _full_groups_keep_n(kinds["bp"], 2, 8, 0)


def test_training_is_reproducible_and_methods_differ():
    a = train("mlp", "srste", "2:4", seed=1, epochs=1)
    b = train("mlp", "srste", "2:4", seed=1, epochs=1)
    c = train("mlp", "dense", None, seed=1, epochs=1)
    assert a["train_loss"] == b["train_loss"] and a["test_acc"] == b["test_acc"]
    assert c["train_loss"] != a["train_loss"] and c["pattern"] == "dense"


def test_sweep_writes_table_and_summary(tmp_path):
    path = accuracy_sweep(tmp_path, models=("mlp",), methods=("dense", "bdwp"), patterns=("1:4",),
                          seeds=(0, 1), epochs=1)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [(r["method"], r["pattern"], r["seed"]) for r in rows] == [
        ("dense", "dense", "0"), ("dense", "dense", "1"), ("bdwp", "1:4", "0"), ("bdwp", "1:4", "1")]
    summary = json.loads((tmp_path / "accuracy_summary.json").read_text())
    cell = summary["mlp/bdwp/1:4"]
    accs = [float(r["test_acc"]) for r in rows[2:]]
    assert cell["n"] == 2 and cell["mean"] == pytest.approx(np.mean(accs))
    assert cell["std"] == pytest.approx(np.std(accs, ddof=1))
    assert (tmp_path / "mlp_bdwp_1-4_s1" / "trace_last.json").exists()


@pytest.mark.parametrize("kwargs,bad", [({"model": "resnet18"}, "resnet18"), ({"method": "prune"}, "prune"),
                                        ({"pattern": "3:2"}, "3:2"), ({"epochs": 0}, "0")])
def test_bad_training_requests_rejected(kwargs, bad):
    with pytest.raises(NmsatError, match=bad):
        train(**{"model": "mlp", **kwargs})
