"""The same sweep on a local Ray with 2 workers gives the same results as in-process."""

import ray

from nmsat.explore import run as run_mod


def test_ray_equals_in_process(sweep_spec, tmp_path, monkeypatch):
    inits, real_init = [], ray.init
    monkeypatch.setattr(ray, "init", lambda **kw: inits.append(kw) or real_init(**kw))
    local = run_mod.run(sweep_spec, tmp_path / "local.csv", progress=False)
    on_ray = run_mod.run(sweep_spec, tmp_path / "ray.csv", ray=True, progress=False)
    assert inits and inits[0]["num_cpus"] == 2 and not ray.is_initialized()
    assert on_ray == local
    assert (tmp_path / "ray.csv").read_text() == (tmp_path / "local.csv").read_text()
