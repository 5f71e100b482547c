"""reports/report.html: the evaluation and the latest monitoring report in one self-contained page.

The Markdown reports stay the source (reports/evaluation.md, reports/monitoring/latest.md); this
page renders them with Python-Markdown and embeds every figure they show as a base64 data URI, so
the one file can be mailed, attached to a CI run or opened offline, with nothing else to fetch.
The evaluate and monitor commands both rewrite it, each with whatever reports exist by then.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path

from .config import Config

REPORT_NAME = "report.html"
IMAGE = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
img { max-width: 100%; height: auto; margin: 0.5rem 0; border: 1px solid #d0d7de; }
blockquote { margin: 0; padding: 0 1rem; color: #57606a; border-left: 0.25rem solid #d0d7de; }
code { background: #f6f8fa; padding: 0.1rem 0.3rem; border-radius: 4px; }
nav a { margin-right: 1rem; }
section { border-top: 2px solid #d0d7de; margin-top: 2rem; }
"""


def sources(config: Config) -> list[tuple[str, str, Path]]:
    """(anchor, title, Markdown file) for each part of the page that exists."""
    reports = config.reports_dir
    parts = [
        ("evaluation", "Evaluation", reports / "evaluation.md"),
        ("model-card", "Model card", reports / "model_card.md"),
        ("monitoring", "Monitoring (latest window)", reports / "monitoring" / "latest.md"),
    ]
    return [part for part in parts if part[2].is_file()]


def inline_images(body: str, folder: Path) -> str:
    """Every <img src> that names a local file becomes a data: URI; a missing file becomes its alt
    text, so the page never points at something that is not there."""

    def embed(match: re.Match[str]) -> str:
        src = html.unescape(match.group(2))
        if src.startswith(("data:", "http://", "https://")):
            return match.group(0)
        path = (folder / src).resolve()
        if not path.is_file():
            return f'{match.group(1)}data:,{match.group(3)} data-missing="{html.escape(src)}"'
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"{match.group(1)}data:{kind};base64,{data}{match.group(3)}"

    return IMAGE.sub(embed, body)


def render(config: Config) -> str:
    """The page as text (empty sections are left out)."""
    import markdown

    parts = sources(config)
    sections, links = [], []
    for anchor, title, path in parts:
        text = path.read_text(encoding="utf-8")
        body = markdown.markdown(text, extensions=["tables", "fenced_code"], output_format="html")
        sections.append(f'<section id="{anchor}">\n{inline_images(body, path.parent)}\n</section>')
        links.append(f'<a href="#{anchor}">{html.escape(title)}</a>')
    title = html.escape(f"{config.project.name}: evaluation and monitoring")
    empty = "<p>No report yet: run <code>make evaluate</code> or <code>make monitor</code>.</p>"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            f"<h1>{title}</h1>",
            f"<nav>{' '.join(links)}</nav>",
            *(sections or [empty]),
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html_report(config: Config) -> Path:
    """Write reports/report.html from the Markdown reports that exist; returns its path."""
    from .artifacts import write_text

    return write_text(config.reports_dir / REPORT_NAME, render(config))
