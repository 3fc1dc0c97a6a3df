"""The direction of the tree, read from the code's imports (ast), so a wrong arrow fails CI.

The design card's layout (docs/architecture.md): ``lake`` is the core and imports no other
package; the stages ``ingestion``, ``quality`` and ``governance`` stand on the core and never
import each other; ``lifecycle`` composes stages through their public names only; ``app`` (the
command line, the spark-submit jobs, the composition of gates + lineage, the benchmarks) sits on
top and nothing imports it. No module imports itself back through others (no circles).

Every import counts: module level, inside functions (the CLI's lazy imports) and under
``TYPE_CHECKING`` alike, since each is an arrow a reader must follow.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = "lake"
STAGES = ("ingestion", "quality", "governance")
COMPOSER = "lifecycle"
TOP = "app"
PACKAGES = (CORE, *STAGES, COMPOSER, TOP)

# What each package may import besides itself.
ALLOWED: dict[str, set[str]] = {
    CORE: set(),
    **{stage: {CORE} for stage in STAGES},
    COMPOSER: {CORE, *STAGES},
    TOP: {CORE, *STAGES, COMPOSER},
}


@dataclass(frozen=True)
class Import:
    """One import statement of a module: the module it names, and the names it takes."""

    importer: str
    path: Path
    line: int
    target: str
    names: tuple[str, ...]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(root: Path) -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The project imports of one module, each resolved to the module it loads.

    ``from lake import delta_io`` names the module ``lake.delta_io``; ``from lake.gates import
    Gates`` names ``lake.gates``; relative imports are resolved against the module's package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(name, path, node.lineno, alias.name, ()))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append(Import(name, path, node.lineno, submodule, ()))
                else:
                    found.append(Import(name, path, node.lineno, base, (alias.name,)))
    return [i for i in found if i.target.split(".")[0] in PACKAGES]


def top(module: str) -> str:
    return module.split(".")[0]


def where(imp: Import, root: Path) -> str:
    return f"{imp.path.relative_to(root)}:{imp.line}: {imp.importer} imports {imp.target}"


def direction_violations(modules: dict[str, Path], root: Path = REPO) -> list[str]:
    """Imports that point the wrong way, each as ``file:line: a imports b (rule)``."""
    wrong: list[str] = []
    for name, path in modules.items():
        mine = top(name)
        for imp in imports_of(name, path, modules):
            theirs = top(imp.target)
            if theirs == mine:
                continue
            if theirs not in ALLOWED[mine]:
                if theirs == TOP:
                    rule = "nothing imports the top layer"
                elif mine == CORE:
                    rule = "the core imports no stage"
                elif mine in STAGES and theirs in STAGES:
                    rule = "a stage never imports another stage"
                else:
                    rule = f"{mine} may import only {sorted(ALLOWED[mine]) or 'itself'}"
                wrong.append(f"{where(imp, root)} ({rule})")
            elif mine == COMPOSER and theirs in STAGES:
                private = [n for n in imp.names if n.startswith("_")]
                if any(part.startswith("_") for part in imp.target.split(".")) or private:
                    wrong.append(
                        f"{where(imp, root)} {', '.join(private)} "
                        "(lifecycle composes stages through their public names only)"
                    )
    return wrong


def circles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    graph = {
        name: sorted(
            {i.target for i in imports_of(name, path, modules) if i.target in modules} - {name}
        )
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_every_package_of_the_design_card_sits_at_the_root() -> None:
    for package in PACKAGES:
        assert (REPO / package / "__init__.py").is_file(), f"{package}/ missing at the root"
    assert not (REPO / "src").exists(), "the packages live at the root, not under src/"


def test_imports_point_down_the_tree() -> None:
    wrong = direction_violations(all_modules(REPO))
    assert wrong == [], "imports against the direction:\n" + "\n".join(wrong)


def test_no_module_imports_itself_back_through_others() -> None:
    found = circles(all_modules(REPO))
    assert found == [], "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_console_command_is_the_top_layer() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["lake"] == "app.cli.main:console"


# The checker itself, on a small tree written for the purpose: each rule must catch its case.


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        init = tmp_path / package / "__init__.py"
        init.parent.mkdir(parents=True, exist_ok=True)
        init.touch()
    return all_modules(tmp_path)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"lake/a.py": "from ingestion import b\n", "ingestion/b.py": ""}, "the core imports"),
        (
            {"quality/a.py": "def f():\n    from governance.c import x\n", "governance/c.py": ""},
            "a stage never imports another stage",
        ),
        (
            {
                "governance/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from app.cli import main\n",
                "app/cli/main.py": "",
            },
            "nothing imports the top layer",
        ),
        (
            {"lifecycle/a.py": "from ingestion.b import _hidden\n", "ingestion/b.py": ""},
            "public names only",
        ),
        (
            {"lifecycle/a.py": "from app import compose\n", "app/compose.py": ""},
            "nothing imports the top layer",
        ),
    ],
)
def test_the_checker_names_each_wrong_arrow(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    wrong = direction_violations(_tree(tmp_path, files), tmp_path)
    assert len(wrong) == 1 and expected in wrong[0], wrong


def test_the_checker_accepts_the_allowed_arrows(tmp_path: Path) -> None:
    modules = _tree(
        tmp_path,
        {
            "ingestion/a.py": "from lake import b\nfrom . import c\n",
            "lake/b.py": "",
            "ingestion/c.py": "",
            "lifecycle/d.py": "from ingestion.a import run\n",
            "app/e.py": "from lifecycle import d\nfrom governance import f\n",
            "governance/f.py": "",
        },
    )
    assert direction_violations(modules, tmp_path) == []


def test_the_checker_finds_a_circle(tmp_path: Path) -> None:
    modules = _tree(
        tmp_path,
        {
            "governance/a.py": "from governance.b import x\n",
            "governance/b.py": "def g():\n    from governance import c\n",
            "governance/c.py": "import governance.a\n",
        },
    )
    assert circles(modules) == [["governance.a", "governance.b", "governance.c"]]
