"""`nmsat train` and `nmsat workload` run end to end; bad input exits 2 with one line."""

import json

import pytest
import torch

from nmsat.cli import main
from nmsat.trace import load


def _run(capsys, *argv):
    threads = torch.get_num_threads()
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_workload_table_csv_json_and_trace_file(capsys, tmp_path):
    code, out, _ = _run(capsys, "workload", "resnet18", "--input", "imagenet", "--batch", "1", "--method", "dense")
    assert code == 0 and "FF:     1.8141 GMACs dense" in out
    code, out, _ = _run(capsys, "workload", "mlp", "--input", "digits", "--format", "csv", "--pattern", "1:4")
    assert code == 0 and out.splitlines()[0] == "layer,pass,m,n,k,count,sparse,macs"
    assert out.splitlines()[1] == "1,FF,32,256,64,1,1:4,524288"
    code, out, _ = _run(capsys, "workload", "vit_tiny", "--format", "json", "-o", str(tmp_path / "t.json"))
    assert code == 0 and json.loads(out)["model"] == "vit_tiny"
    assert load(tmp_path / "t.json").gemms


def test_train_runs_and_writes_accuracy(capsys, tmp_path):
    code, out, _ = _run(capsys, "train", "--model", "mlp", "--method", "dense", "--method", "bdwp",
                        "--pattern", "2:4", "--epochs", "1", "-o", str(tmp_path), "--no-progress")
    assert code == 0 and "mlp          bdwp         2:4" in out
    assert (tmp_path / "accuracy.csv").read_text().startswith("model,method,pattern,seed,test_acc")


@pytest.mark.parametrize("argv,bad", [
    (["workload", "resnet18", "--pattern", "4:2"], "4:2"),
    (["workload", "resnet18", "--pattern", "2/8"], "2/8"),
    (["workload", "alexnet"], "alexnet"),
    (["workload", "mlp", "--method", "topk"], "topk"),
    (["train", "--model", "resnet18"], "resnet18"),
    (["train", "--method", "magic"], "magic"),
    (["train", "--pattern", "8:8"], "8:8"),
])
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, argv, bad):
    code, _, err = _run(capsys, *argv, *(["-o", str(tmp_path)] if argv[0] == "train" else []))
    assert code == 2 and len(err.strip().splitlines()) == 1 and bad in err
