"""Compare the outputs of ``templater make`` for every shipped preset between two source trees.

Used to show that a refactor changed structure, not behaviour: each preset's STL, GWL files,
sidecar, recipe, design.json, prediction.json and preview.png are written by the reference
revision and by the working tree, then compared byte for byte (the preview is deterministic too;
against a revision older than the preview, skip it with ``--ignore preview.png``).

    python scripts/compare_outputs.py --ref 7267efa          # working tree against a revision
    python scripts/compare_outputs.py --ref 7267efa --new HEAD   # two revisions
    python scripts/compare_outputs.py --ref-tree /some/checkout
    python scripts/compare_outputs.py --ref 7267efa --ignore preview.png

Exit status 0 when every file of every preset is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKERS = {".templater-job"}  # the folder marker (newer revisions only), not an output


def presets(tree: Path) -> list[str]:
    """Names of the shipped design presets of a source tree."""
    return sorted(p.stem for p in (tree / "templates" / "designs").glob("*.toml"))


def make_all(tree: Path, out: Path, names: list[str], extra: list[str]) -> None:
    """Run ``templater make --preset NAME`` from ``tree``'s sources for every name."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    for name in names:
        cmd = [sys.executable, "-m", "templater.cli", "make", "--preset", name,
               "-o", str(out / name), *extra]
        subprocess.run(cmd, env=env, check=True, cwd=out, stdout=subprocess.DEVNULL)


def compare(a: Path, b: Path, ignore: frozenset[str] = frozenset()) -> tuple[int, list[str]]:
    """Number of files compared and the relative paths that differ or exist on one side only
    (files named in ``ignore`` are skipped)."""
    skip = MARKERS | ignore
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name not in skip}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name not in skip}
    bad = sorted(str(p) for p in files_a ^ files_b)
    for rel in sorted(files_a & files_b):
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            bad.append(str(rel))
    return len(files_a | files_b), bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--ref", help="git revision of this repository to compare against")
    group.add_argument("--ref-tree", type=Path, help="source tree to compare against")
    parser.add_argument("--new", help="git revision to check (default: the working tree)")
    parser.add_argument("--preset", action="append", help="only these presets (repeatable)")
    parser.add_argument("--ignore", action="append", default=[], metavar="FILE",
                        help="skip files of this name, e.g. preview.png (repeatable)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if args.ref is not None:
            ref_tree = tmp_path / "ref-src"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(ref_tree), args.ref], check=True)
        else:
            ref_tree = args.ref_tree.resolve()
        new_tree = ROOT
        if args.new is not None:
            new_tree = tmp_path / "new-src"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(new_tree), args.new], check=True)
        try:
            names = args.preset or presets(ROOT)
            for side, tree in (("ref", ref_tree), ("new", new_tree)):
                (tmp_path / side).mkdir()
                make_all(tree, tmp_path / side, names, [])
            total, bad = compare(tmp_path / "ref", tmp_path / "new", frozenset(args.ignore))
        finally:
            for rev, tree in ((args.ref, ref_tree), (args.new, new_tree)):
                if rev is not None:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(tree)], check=False)
    print(f"{len(names)} presets, {total} files compared, {len(bad)} differ")
    for rel in bad:
        print(f"  differs: {rel}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
