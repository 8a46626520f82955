"""README.md and docs/ name only paths that exist in the repository, and link only inside it."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
EXTERNAL = ("http://", "https://", "mailto:", "#")


def top_level() -> set[str]:
    """Names directly under the repository root (the first component of a repository path)."""
    return {p.name for p in ROOT.iterdir() if p.name != ".git"}


def exists(path: Path) -> bool:
    """A path, or a glob pattern that matches at least one file."""
    if any(ch in path.name for ch in "*?["):
        return any(path.parent.glob(path.name))
    return path.exists()


def repo_paths(text: str) -> list[str]:
    """Backticked tokens that are repository paths: a/b with a a top-level entry of the repo
    (placeholders such as ``templater/cli/NAME.py`` excepted)."""
    roots = top_level()
    found = []
    for token in CODE.findall(text):
        token = token.strip()
        if " " in token or "/" not in token or re.search(r"\b[A-Z]{3,}\b", token):
            continue
        if token.split("/", 1)[0] in roots:
            found.append(token)
    return found


def layout_rows(text: str) -> list[tuple[str, str]]:
    """(path cell, description cell) of each row of README's layout table."""
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] not in ("path", "") and not set(cells[0]) <= set("- "):
            rows.append((cells[0], cells[1]))
    return rows


def test_readme_has_a_layout_table():
    assert len(layout_rows(README.read_text(encoding="utf-8"))) >= 10


def test_readme_refers_to_nothing_outside_the_repository():
    text = README.read_text(encoding="utf-8")
    assert "../" not in text


@pytest.mark.parametrize("path", repo_paths(README.read_text(encoding="utf-8")))
def test_every_path_readme_names_exists(path):
    assert exists(ROOT / path), f"README.md names `{path}`, which does not exist"


def test_every_path_of_the_layout_table_exists():
    """A row names a first path; further bare file names in the row are relative to its folder."""
    missing = []
    for path_cell, what_cell in layout_rows(README.read_text(encoding="utf-8")):
        names = CODE.findall(path_cell)
        assert names, f"layout row without a path: {path_cell!r}"
        first = names[0]
        base = ROOT / first if first.endswith("/") else (ROOT / first).parent
        for name in names:
            path = ROOT / name if "/" in name else base / name
            if not exists(path):
                missing.append(name)
        for name in CODE.findall(what_cell):
            if re.fullmatch(r"[\w.*-]+\.(py|toml|npz|md)", name) and not exists(base / name):
                missing.append(f"{first} {name}")
            elif "/" in name and " " not in name and not exists(ROOT / name):
                missing.append(name)
    assert not missing, f"README layout table names missing paths: {missing}"


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_stay_inside_the_repository_and_exist(page):
    bad = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(EXTERNAL):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if ROOT not in path.parents or not path.exists():
            bad.append(target)
    assert not bad, f"{page.name}: links to missing or outside targets: {bad}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_path_the_docs_name_exists(page):
    missing = [p for p in repo_paths(page.read_text(encoding="utf-8")) if not exists(ROOT / p)]
    assert not missing, f"{page.name} names paths that do not exist: {missing}"


def test_docs_pages_exist():
    names = {p.name for p in DOCS}
    assert {"user-guide.md", "theory.md", "printer-guide.md", "benchmarks.md",
            "architecture.md"} <= names
