"""The code cites the project's own reference (docs/), and every citation resolves to a heading."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/([a-z_-]+\.md)(?:#([a-z0-9_-]+))?")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", page.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_docs_citation_in_the_code_resolves():
    cited = [
        (path, m.group(1), m.group(2))
        for path in sorted((ROOT / "model").rglob("*.py"))
        for m in CITATION.finditer(path.read_text(encoding="utf-8"))
    ]
    assert cited, "the code cites no docs page"
    for path, page, anchor in cited:
        target = ROOT / "docs" / page
        assert target.is_file(), f"{path.relative_to(ROOT)} cites docs/{page}, which does not exist"
        if anchor:
            assert anchor in _anchors(target), f"{path.relative_to(ROOT)} cites docs/{page}#{anchor}: no such heading"


def test_the_code_cites_no_document_the_project_does_not_contain():
    for path in (ROOT / "model").rglob("*.py"):
        assert "SPEC" not in path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)} cites SPEC"


def test_every_constraint_family_has_its_own_heading_in_the_model_docs():
    from model.formulation import FAMILIES

    anchors = _anchors(ROOT / "docs" / "model.md")
    assert not [f for f in FAMILIES if f not in anchors]
