"""docs/deck_map.md: every topic of the seed decks has a place in the course or a reason.

Each entry links a notebook section as ``[NN § heading](../solutions/NN_name.ipynb)``;
the heading must exist in that notebook, so renaming a section breaks this test
instead of the map. Entries without a place say ``left out:`` and why.
"""

import re
from pathlib import Path

from rnncourse.release import read_notebook

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "deck_map.md"
LINK = re.compile(r"\[(\d{2}) § (.+?)\]\(\.\./solutions/(\d{2}_[A-Za-z0-9_]+\.ipynb)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.M)


def headings(notebook: Path) -> set[str]:
    found = set()
    for cell in read_notebook(notebook).cells:
        if cell.cell_type == "markdown":
            found.update(h.strip() for h in HEADING.findall(cell.source))
    return found


def test_every_link_points_at_an_existing_notebook_heading():
    text = MAP.read_text(encoding="utf-8")
    links = LINK.findall(text)
    assert len(links) >= 60, f"expected the map to place at least 60 topics, found {len(links)} links"
    cache, broken = {}, []
    for number, heading, name in links:
        path = ROOT / "solutions" / name
        if not path.exists() or not name.startswith(number):
            broken.append(f"{name} (no such notebook, or number {number} does not match)")
            continue
        cache.setdefault(name, headings(path))
        if heading.strip() not in cache[name]:
            broken.append(f"{name}: no heading {heading!r}")
    assert not broken, "docs/deck_map.md links to missing sections:\n" + "\n".join(broken)


def test_every_topic_line_has_a_place_or_a_reason():
    entries = [line for line in MAP.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]
    homeless = [line for line in entries if not LINK.search(line) and "left out:" not in line]
    assert not homeless, f"topics with neither a section nor a reason: {homeless}"


def test_every_deck_has_a_section():
    text = MAP.read_text(encoding="utf-8")
    decks = sorted(p.name.split("_")[0] for p in (ROOT.parent / "shared" / "seeds").glob("*.txt")) \
        or ["000", "001", "002", "003", "004"]
    for deck in decks:
        assert re.search(rf"^## Deck {deck}\b", text, re.M), f"no section for deck {deck}"
