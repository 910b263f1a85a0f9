"""``report.html``: one static, self-contained page (no network, no script) that holds the whole
comparison: its identity (benchmarks, tables' sha256, objectives, budget, seeds, package versions),
the tables and every figure, each embedded as a PNG data URI with a link to its PDF beside it."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Sequence

# the packages whose versions identify a comparison's numbers
VERSIONED = ("robbench-plugin", "numpy", "scipy", "pandas", "moocore", "optuna", "syne-tune", "statsmodels",
             "scikit-posthocs", "matplotlib")

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:85%;color:#555}code{background:#f4f4f4;padding:0 3px}.note{font-size:90%;color:#444}"""


def versions() -> dict[str, str]:
    """Installed versions of :data:`VERSIONED` (absent ones left out)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def table(rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(png: Path, base: Path, caption: str) -> str:
    """A figure embedded from ``png`` (its PDF linked, relative to the page at ``base``)."""
    data = base64.b64encode(Path(png).read_bytes()).decode()
    pdf = Path(png).with_suffix(".pdf").relative_to(base).as_posix()
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f'<figcaption>{html.escape(caption)} (<a href="{html.escape(pdf)}">PDF</a>)</figcaption></figure>')


def identity_rows(identities: Sequence[dict], seeds: int) -> list[list[str]]:
    head = ["task", "benchmark", "dataset", "table sha256", "objectives", "budget", "seeds", "table seed", "mode"]
    return [head] + [[i["label"], i["benchmark"], str(i["dataset"]), i["table_sha256"], ", ".join(i["objectives"]),
                      str(i["budget"]), str(seeds), str(i["table_seed"]), i["mode"]] for i in identities]


def write_html(title: str, sections: Sequence[tuple[str, str]]) -> str:
    """The page: ``sections`` are (heading, inner HTML) pairs, in order."""
    body = "".join(f"<section><h2>{html.escape(h)}</h2>{inner}</section>" for h, inner in sections)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")
