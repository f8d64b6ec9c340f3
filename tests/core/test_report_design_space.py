"""The report's design-space section: a small explore sweep for a model gives a front plot and table per model."""

from nmsat.report import design_space


def test_section_from_a_small_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(design_space, "SWEEP", {"array.rows": [16, 32], "array.patterns": [["2:8"], ["2:4"]]})
    rows = design_space.collect([("mlp", "digits")], tmp_path)
    assert (tmp_path / "design_space.csv").exists()
    assert len(rows) == 2 * 2 * 3
    assert any("pattern 2:4 is not supported" in r["reason"] for r in rows)
    md = design_space.section(rows, tmp_path)
    assert "### mlp/digits/b32" in md and "design_space_0.png" in md
    assert (tmp_path / "design_space_0.png").stat().st_size > 1000
    assert md.count("| rows=") >= 1


def test_section_at_fmax_with_area_estimate(tmp_path, monkeypatch):
    """With the timing flow and the area fit stubbed: fronts over time at Fmax, energy and estimated area."""
    from nmsat.explore import area_model
    from nmsat.hw.flow import timing

    model = {part: {c: [1.0] * len(names) for c in area_model.CATS} for part, names in area_model.FEATURES.items()}
    err = {c: {"n": 4, "median_pct": 5.0, "max_pct": 9.0} for c in area_model.CATS}
    monkeypatch.setattr(area_model, "load_fit", lambda path=None: (model, err))
    monkeypatch.setattr(timing, "tool_versions", lambda: {})
    monkeypatch.setattr(timing, "timing_report", lambda cfg, *a: {"variants": {
        "nm": {"fmax_median_mhz": 90.0 + cfg.array.rows}, "dense": {"fmax_median_mhz": 1.0}}})
    monkeypatch.setenv("NMSAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(design_space, "SWEEP", {"array.rows": [16, 32], "array.patterns": [["2:8"]]})
    rows = design_space.collect([("mlp", "digits")], tmp_path, fmax="pe")
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(r["area_basis"].startswith("estimate") and r["fmax_mhz"] for r in ok)
    md = design_space.section(rows, tmp_path)
    assert "at Fmax of one PE" in md and "held-out LUT error median 5%" in md
    assert "misses the config clock for 2 of 2 designs" in md  # 106 and 122 MHz < 200 MHz
    assert "| fmax_mhz | energy_mJ | multipliers | lut | dsp | bram |" in md
