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
