"""A self-contained HTML report: numbers, tables and the pictures embedded as base64 PNG.

The file references nothing outside itself (no external src or href, inline CSS, no scripts),
so it can be mailed or opened offline.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from model.formatting import number

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:0;color:#222;background:#fafafa}
*{box-sizing:border-box}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid #e5e5e5;padding-bottom:4px}
.sub{color:#666;margin:0 0 18px;font-size:14px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin:12px 0}
.fact{background:#f4f6f8;border-radius:6px;padding:8px 12px} .fact b{display:block;font-size:17px;margin-top:2px}
.fact span{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:13px;margin:8px 0 4px}
th,td{padding:4px 10px;border-bottom:1px solid #e8e8e8;text-align:left} th{background:#f2f2f2}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:14px 0 22px} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555;margin-top:4px}
.note{font-size:12px;color:#666} .bad{color:#b2182b} .good{color:#1a9850}
nav a{margin-right:12px;font-size:13px;color:#2c5f8a}
"""


class Report:
    """Collects sections in order and writes one HTML file."""

    def __init__(self, title: str, subtitle: str = ""):
        self.title, self.subtitle = title, subtitle
        self.parts: list[str] = []
        self.sections: list[tuple[str, str]] = []

    def heading(self, text: str) -> None:
        anchor = f"s{len(self.sections) + 1}"
        self.sections.append((anchor, text))
        self.parts.append(f'<h2 id="{anchor}">{html.escape(text)}</h2>')

    def paragraph(self, text: str, cls: str = "") -> None:
        c = f' class="{cls}"' if cls else ""
        self.parts.append(f"<p{c}>{html.escape(text)}</p>")

    def facts(self, items: Iterable[tuple[str, Any]]) -> None:
        cells = "".join(
            f'<div class="fact"><span>{html.escape(str(k))}</span><b>{html.escape(number(v))}</b></div>'
            for k, v in items
        )
        self.parts.append(f'<div class="facts">{cells}</div>')

    def table(
        self,
        df: pd.DataFrame,
        caption: str = "",
        max_rows: int = 15,
        formats: dict[str, Callable[[Any], str]] | None = None,
    ) -> None:
        formats = formats or {}
        total = len(df)
        df = df.head(max_rows)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        rows = []
        for _, row in df.iterrows():
            cells = []
            for c in df.columns:
                v = row[c]
                v = v.item() if hasattr(v, "item") else v
                text = formats[c](v) if c in formats else number(v)
                cls = ' class="n"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
                cells.append(f"<td{cls}>{html.escape(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        more = f'<p class="note">{total - len(df)} more rows in the CSV file.</p>' if total > len(df) else ""
        cap = f'<p class="note">{html.escape(caption)}</p>' if caption else ""
        self.parts.append(f"{cap}<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")

    def image(self, path: Path, caption: str = "") -> None:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        alt = html.escape(caption or Path(path).stem)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>')

    def render(self) -> str:
        nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in self.sections)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        sub = f'<p class="sub">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>{html.escape(self.title)}</h1>{sub}<nav>{nav}</nav>{''.join(self.parts)}"
            f'<p class="note">Written by productive-layout on {stamp}.</p></main></body></html>\n'
        )

    def write(self, path: Path) -> Path:
        """Write atomically (a temporary file beside it, then renamed)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        tmp.replace(path)
        return path
