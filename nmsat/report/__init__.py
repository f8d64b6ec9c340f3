"""The nmsat report: gathers accuracy, speedup, energy, schedule, validation, area and speed figures
and writes them as Markdown + PNG."""
