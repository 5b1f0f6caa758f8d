"""What ``policybench list`` prints: each policy type the installed LeRobot registers (and noop)
with whether it builds here, and why not where it does not, folded to the output's width with
the descriptions kept in their column. Pure: the list job's answer in, text out."""

from __future__ import annotations

from policybench.terminal import wrapped


def render_list(answer: dict, width: int | None = None) -> str:
    """``answer``: the list job's ({"lerobot": version or None, "policies": [{"name", "summary",
    "curated", "problem"}, ...]})."""
    rows = answer["policies"]
    name_width = max((len(r["name"]) for r in rows), default=0)
    column = " " * (name_width + 11)  # where a description starts: name, two spaces, the mark, two spaces
    out = [f"LeRobot {answer['lerobot'] or 'not installed'}: every policy type it registers, and noop"]
    for r in rows:
        mark = "no     " if r["problem"] else "yes    " if r["curated"] else "untried"
        out += wrapped(f"{r['name'].ljust(name_width)}  {mark}  {r['summary']}", width, column)
        if r["problem"] is not None:
            out += wrapped(f"{column}why not: {r['problem']}", width, "")
    return "\n".join(out) + "\n"
