"""Co-design sweeps (`nmsat explore`): a spec of config keys, workloads, methods and patterns, simulated point by
point (in-process or on Ray) into a resumable CSV, with Pareto fronts and a Markdown summary.

`spec` parses the TOML, `point` simulates one point, `run` drives the sweep, `area` adds Yosys area,
`pareto` finds the fronts, `outputs` draws and summarises them. No torch unless a trace must be extracted.
"""
