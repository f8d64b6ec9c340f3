"""Timeline export: a simulated step as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) opens.

One process (the accelerator) with a thread per unit: array, DRAM, top-N, update. Times are in
microseconds at the array clock; each event carries its cycle start and duration in ``args``.
"""

import json

from nmsat import atomic

TRACKS = ("array", "dram", "topn", "update")
TRACK_NAMES = {"array": "array", "dram": "DRAM", "topn": "top-N", "update": "weight update"}


def trace_events(result):
    """The Chrome trace-event list of `result` (a `NetworkResult`), metadata first."""
    us = 1.0 / result.clock_mhz
    events = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
               "args": {"name": f"nmsat {result.model} {result.mode}/{result.dataflow}"
                                f"{'' if result.pregen else ' no-pregen'}"}}]
    events += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": i, "args": {"name": TRACK_NAMES[t]}}
               for i, t in enumerate(TRACKS)]
    for e in result.events:
        if e["dur"] <= 0:
            continue
        events.append({"name": e["name"], "ph": "X", "ts": e["start"] * us, "dur": e["dur"] * us,
                       "pid": 1, "tid": TRACKS.index(e["track"]),
                       "args": {"start_cycle": int(e["start"]), "cycles": int(e["dur"]), **e["args"]}})
    return events


def write_perfetto(result, path):
    """Write the timeline of `result` to `path` (atomically) as ``{"traceEvents": [...]}``."""
    atomic.write_text(path, json.dumps({"traceEvents": trace_events(result), "displayTimeUnit": "ns"}))
