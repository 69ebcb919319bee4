"""An evaluation report as Markdown and as a self-contained HTML page.

A report is a title, a few headline lines, named tables (rows of dicts, formatted
by ``(key, format spec)`` columns as in ``metrics.format_table``) and figures
(PNG paths). Markdown links the PNGs by relative path; the HTML page embeds them
(base64), so it opens anywhere as a single file.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Report:
    """What a report shows; ``tables``: title -> (rows, columns); ``figures``: caption -> PNG."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: dict[str, tuple[list[dict], Sequence]] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)


def cell(value, spec: str | None = None) -> str:
    """One table cell: formatted with ``spec``; None, NaN and missing print as "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if spec and isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def _columns(columns: Sequence) -> list[tuple[str, str | None]]:
    return [(c, None) if isinstance(c, str) else (c[0], c[1]) for c in columns]


def plain_rows(rows: Sequence[Mapping], columns: Sequence) -> list[dict[str, str]]:
    """Rows as {column: formatted text}: what a table artifact or a page shows."""
    cols = _columns(columns)
    return [{key: cell(row.get(key), spec) for key, spec in cols} for row in rows]


def markdown_table(rows: Sequence[Mapping], columns: Sequence) -> str:
    keys = [key for key, _ in _columns(columns)]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(r[k] for k in keys) + " |" for r in plain_rows(rows, columns)]
    return "\n".join(lines)


def to_markdown(report: Report, base: Path | None = None) -> str:
    """The report as Markdown; figure links relative to the directory ``base``."""
    parts = [f"# {report.title}", "", *[f"- {line}" for line in report.lines], ""]
    for title, (rows, columns) in report.tables.items():
        parts += [f"## {title}", "", markdown_table(rows, columns), ""]
    for caption, path in report.figures.items():
        shown = Path(os.path.relpath(path, base)) if base else Path(path)
        parts += [f"## {caption}", "", f"![{caption}]({shown.as_posix()})", ""]
    return "\n".join(parts)


def _html_table(rows: Sequence[Mapping], columns: Sequence) -> str:
    keys = [key for key, _ in _columns(columns)]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(r[k])}</td>" for k in keys) + "</tr>"
                   for r in plain_rows(rows, columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def data_url(path) -> str:
    """A PNG as a ``data:`` URL (for pages and UI artifacts that cannot reach the file)."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def to_html(report: Report) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in report.lines)
    tables = "".join(f"<h2>{html.escape(t)}</h2>{_html_table(rows, cols)}"
                     for t, (rows, cols) in report.tables.items())
    figures = "".join(f"<h2>{html.escape(c)}</h2><img alt='{html.escape(c)}' src='{data_url(p)}'>"
                      for c, p in report.figures.items())
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(report.title)}</h1><ul>{items}</ul>"
            f"{tables}{figures}</body></html>")


def write(report: Report, out_dir) -> dict[str, Path]:
    """Write report.md and report.html into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "report.md", "html": out / "report.html"}
    paths["markdown"].write_text(to_markdown(report, base=out))
    paths["html"].write_text(to_html(report))
    return paths
