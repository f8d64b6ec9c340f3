"""The fitted area model: a fit on exact synthetic data recovers its coefficients, the held-out error is the
relative error of the estimated totals, the estimate labels itself, and a missing data file is one clear error."""

import json

import numpy as np
import pytest

from nmsat.config import load_config
from nmsat.errors import NmsatError
from nmsat.explore import area as area_mod
from nmsat.explore import area_model
from nmsat.explore.area_model import CATS, FEATURES, fit, heldout_error, predict


def synthetic(n, coefs, seed=0):
    """`n` records whose component areas are exactly linear in random features with `coefs`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        f = {name: float(rng.integers(1, 500)) for part in FEATURES for name in FEATURES[part]}
        f.update(one=1, pes=int(rng.integers(4, 65)), has_topn=1)
        area = {part: {c: sum(f[name] * k for name, k in zip(FEATURES[part], coefs[part][c], strict=True))
                       for c in CATS} for part in FEATURES}
        area["total"] = {c: f["pes"] * area["pe"][c] + area["non_pe"][c] + area["topn"][c] for c in CATS}
        out.append({"features": f, "area": area})
    return out


def coefficients(seed=1):
    rng = np.random.default_rng(seed)
    return {part: {c: rng.uniform(0, 5, len(FEATURES[part])).tolist() for c in CATS} for part in FEATURES}


def test_fit_recovers_coefficients():
    coefs = coefficients()
    model = fit(synthetic(12, coefs))
    for part in FEATURES:
        for c in CATS:
            assert np.allclose(model[part][c], coefs[part][c], rtol=1e-6)
    err = heldout_error(model, synthetic(5, coefs, seed=9))
    assert all(err[c]["max_pct"] < 1e-6 for c in CATS)


def test_heldout_error_is_relative_error_of_totals():
    coefs = coefficients()
    model = fit(synthetic(12, coefs))
    held = synthetic(3, coefs, seed=5)
    truth = [predict(model, r["features"]) for r in held]
    for r, scale in zip(held, (1.1, 0.8, 1.0), strict=True):  # measured totals 10% above, 20% below, equal
        r["area"]["total"] = {c: v * scale for c, v in predict(model, r["features"]).items()}
    err = heldout_error(model, held)
    # |est - real| / real: 0.1/1.1, 0.2/0.8, 0
    assert err["lut"]["median_pct"] == pytest.approx(100 * 0.1 / 1.1)
    assert err["lut"]["max_pct"] == pytest.approx(100 * 0.2 / 0.8)
    assert err["ff"]["max_abs"] == pytest.approx(max(0.1 * truth[0]["ff"], 0.2 * truth[1]["ff"]))
    assert err["lut"]["n"] == 3


def test_too_few_training_configs_is_an_error():
    with pytest.raises(NmsatError, match="need at least"):
        fit(synthetic(2, coefficients()))


def test_estimate_columns_say_they_are_estimates(tmp_path, monkeypatch):
    data = tmp_path / "fit.json"
    cfg = load_config("hw-small")
    feats = area_model.config_features(cfg)
    coefs = coefficients()
    recs = synthetic(10, coefs) + [{**r, "split": "heldout"} for r in synthetic(3, coefs, seed=4)]
    by_name = {}
    for i, r in enumerate(recs):  # data files hold configs: the features are recomputed from them on load
        r.setdefault("split", "train")
        r["config"] = {**cfg.to_dict(), "name": f"c{i}"}
        by_name[f"c{i}"] = r.pop("features")
    real = area_model.config_features
    monkeypatch.setattr(area_model, "config_features", lambda c: by_name.get(c.name) or real(c))
    data.write_text(json.dumps({"records": recs}))
    cols = area_mod.area_columns(cfg, "estimate", str(data))
    want = predict(area_model.load_fit(str(data))[0], feats)
    assert cols["area_lut"] == round(want["lut"]) and cols["area_basis"].startswith("estimate")
    assert "held-out LUT error median 0%" in cols["area_basis"] and "over 3 configs" in cols["area_basis"]


def test_yosys_mode_estimates_configs_too_big_to_build(tmp_path, monkeypatch):
    monkeypatch.setattr(area_mod, "estimate_basis", lambda path: "estimate (test)")
    monkeypatch.setattr(area_model, "load_fit", lambda path: (fit(synthetic(12, coefficients())), None))
    cols = area_mod.area_columns(load_config("default"), "yosys", None)  # 32 x 32: over the build limit
    assert cols["area_basis"] == "estimate (test)" and cols["area_lut"] > 0


def test_missing_fit_data_is_one_error(tmp_path):
    with pytest.raises(NmsatError, match="bench_area_fit.py"):
        area_model.load_fit(str(tmp_path / "none.json"))


def test_shipped_fit_data_fits():
    model, err = area_model.load_fit()
    assert set(model) == set(FEATURES) and err["lut"]["n"] >= 3
