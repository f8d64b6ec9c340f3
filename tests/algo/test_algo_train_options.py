"""Training options are checked before any training: one-line `NmsatError`, and metrics.json stays valid JSON."""

import json
import math

import pytest

from nmsat.algo.nmconfig import NMConfig
from nmsat.algo.sweep import accuracy_sweep
from nmsat.algo.train import _json_safe, train
from nmsat.errors import NmsatError


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": math.nan}, "learning rate (--lr) = nan: must be finite"),
    ({"lr": math.inf}, "must be finite"),
    ({"lr": -1.0}, "must be > 0"),
    ({"lr": 0.0}, "must be > 0"),
    ({"decay": math.inf}, "SR-STE decay (--decay) = inf: must be finite"),
    ({"decay": -1.0}, "must be >= 0"),
    ({"seed": 2**70}, "seed = 1180591620717411303424: must be <="),
    ({"seed": -1}, "seed = -1: must be >= 0"),
    ({"threads": 100000}, "threads = 100000: must be <= 256"),
    ({"threads": 0}, "threads = 0: must be >= 1"),
    ({"epochs": 0}, "epochs = 0: must be >= 1"),
    ({"batch": 1.5}, "batch = 1.5: expected an integer"),
    ({"interval": 0}, "mask-update interval = 0: must be >= 1"),
    ({"pattern": "4:4"}, "bad N:M pattern 4:4"),
])
def test_bad_training_options_fail_before_training(tmp_path, kwargs, message):
    with pytest.raises(NmsatError) as e:
        train(**{"out_dir": tmp_path / "run", **kwargs})
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "run").exists()


def test_sweep_checks_every_seed_and_model_before_the_first_run(tmp_path):
    for kwargs in ({"seeds": (0, -5)}, {"models": ("digits_cnn", "resnet50")}):
        with pytest.raises(NmsatError):
            accuracy_sweep(tmp_path, **kwargs)
        assert list(tmp_path.iterdir()) == []


def test_diverged_metrics_stay_valid_json():
    text = json.dumps(_json_safe({"loss": [1.0, math.nan, math.inf], "acc": 0.1}), allow_nan=False)
    assert json.loads(text) == {"loss": [1.0, None, None], "acc": 0.1}


def test_nmconfig_refuses_infinite_decay():
    with pytest.raises(NmsatError, match="finite"):
        NMConfig("srste", 2, 8, math.inf)


@pytest.mark.parametrize("fault", ["torch.save", "os.write"])
def test_full_disk_while_saving_a_run_is_one_line(tmp_path, monkeypatch, fault):
    import errno
    import os

    import torch

    from nmsat import atomic

    def full(*args, **kwargs):
        if fault == "torch.save":
            raise RuntimeError("[enforce fail at inline_container.cc] . PytorchStreamWriter failed writing file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fault == "torch.save":
        monkeypatch.setattr(torch, "save", full)
    else:
        monkeypatch.setattr(atomic.os, "write", full)
    with pytest.raises(NmsatError, match="cannot write '.*(checkpoint.pt|trace_first.json)'") as e:
        train("mlp", "bdwp", "2:8", epochs=1, out_dir=tmp_path / "run")
    monkeypatch.undo()
    assert "\n" not in str(e.value)
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(atomic.TEMP_PREFIX)]
