"""Font choice: Chinese labels only where a CJK font is installed, English otherwise.

Matplotlib draws a glyph it cannot find as an empty box ("tofu") and only warns. To never ship a
map of boxes, labels are chosen *before* drawing: `chinese_font()` looks for a CJK family among the
fonts matplotlib knows; without one, every label falls back to the English name, and any text that
still holds CJK characters is replaced by its fallback (`safe_text`).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterable, Iterator

import matplotlib

# Families known to cover simplified Chinese, best first (Debian: fonts-noto-cjk, fonts-wqy-*).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Sarasa Gothic SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "SimSun",
)
_CJK_HINTS = (
    "cjk",
    "wenquanyi",
    "wqy",
    "source han",
    "simhei",
    "simsun",
    "yahei",
    "pingfang",
    "hei sc",
    "heiti",
    "droid sans fallback",
    "ar pl",
    "sarasa",
)
_CJK_CHARS = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")

BASE_FAMILY = "DejaVu Sans"  # ships with matplotlib: Latin, Greek, superscripts, arrows


def choose_cjk_family(available: Iterable[str]) -> str | None:
    """The best CJK family among `available` font family names, or None.

    Known families win in the order of CJK_FAMILIES; otherwise any family whose name hints at CJK.
    """
    names = list(dict.fromkeys(available))
    lower = {n.lower(): n for n in names}
    for family in CJK_FAMILIES:
        if family.lower() in lower:
            return lower[family.lower()]
    for name in names:
        if any(h in name.lower() for h in _CJK_HINTS):
            return name
    return None


@lru_cache(maxsize=1)
def chinese_font() -> str | None:
    """The installed CJK font family matplotlib can use, or None (then labels are English)."""
    from matplotlib import font_manager

    return choose_cjk_family(f.name for f in font_manager.fontManager.ttflist)


def has_cjk(text: object) -> bool:
    return isinstance(text, str) and bool(_CJK_CHARS.search(text))


def safe_text(text: object, fallback: object = "", cjk: bool | None = None) -> str:
    """`text` if it can be drawn, else `fallback` (then the text with CJK characters removed)."""
    cjk = chinese_font() is not None if cjk is None else cjk
    text = "" if text is None else str(text)
    if cjk or not has_cjk(text):
        return text
    fallback = "" if fallback is None else str(fallback)
    if fallback and not has_cjk(fallback):
        return fallback
    return _CJK_CHARS.sub("", text).strip() or "?"


def label(name: object, name_zh: object, cjk: bool | None = None) -> str:
    """A region or cluster label: the Chinese name where a CJK font is installed, else the English one."""
    cjk = chinese_font() is not None if cjk is None else cjk
    zh = "" if name_zh is None or (isinstance(name_zh, float) and name_zh != name_zh) else str(name_zh).strip()
    en = "" if name is None or (isinstance(name, float) and name != name) else str(name).strip()
    if cjk and zh:
        return zh
    return safe_text(en or zh, cjk=cjk)


def rc(cjk_family: str | None = None) -> dict:
    """Matplotlib settings for the plots: the CJK family first when there is one."""
    family = [cjk_family, BASE_FAMILY] if cjk_family else [BASE_FAMILY]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": family,
        "axes.unicode_minus": cjk_family is None,  # many CJK fonts lack U+2212
        "font.size": 9,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "svg.fonttype": "none",
    }


@contextmanager
def style() -> Iterator[str | None]:
    """Plotting context: the chosen fonts set for the duration; yields the CJK family or None."""
    family = chinese_font()
    with matplotlib.rc_context(rc(family)):
        yield family
