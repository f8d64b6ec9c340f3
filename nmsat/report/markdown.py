"""Small Markdown helpers for the report."""


def _cell(v):
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "" if v is None else str(v)


def table(rows, columns, headers=None):
    """A Markdown table of `rows` (dicts) restricted to `columns`, floats rounded for reading."""
    headers = headers or columns
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(out)


def figure(name, alt):
    """An image reference relative to the report folder."""
    return f"![{alt}]({name})"
