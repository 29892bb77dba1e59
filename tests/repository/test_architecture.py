"""The package's layers point one way: a module imports only modules of its own layer or below,
there is no import cycle (imports inside functions included), and no module imports another's
private names. The tests mirror the package: every test file outside ``tests/repository/`` tests
one module of it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "neuralpde"
TESTS = Path(__file__).resolve().parents[1]

#: Lowest first. A module belongs to the layer of its top-level name (``neuralpde.io.hdf5`` to
#: ``io``); ``neuralpde`` itself is the package's ``__init__``.
LAYERS: list[set[str]] = [
    {"_version", "limits", "_arguments", "_names"},  # checks of arguments, names
    {"coefficients", "metrics"},  # numbers, and the error measures
    {"operators", "domains", "geometry", "conditions"},  # the calculus and the geometry
    {"equations", "fields"},  # the equations; the networks and their jets
    {"problem", "engine"},  # a problem; the derivative engines over the networks
    {"checks", "sampling", "io"},  # checks and points of a problem; the file format
    # data from files; the finite-difference referee; a problem as a solved field knows it
    {"griddata", "reference", "problem_spec"},
    {"training"},  # optimizers and checkpoints
    # derived settings; a trained field (and how it is evaluated); problem files
    {"defaults", "solution", "_field_eval", "problem_file"},
    # solve; the judge; fits of data; error estimates; a field written for other programs
    {"api", "validate", "fitting", "estimate", "export"},
    {"report", "plots"},  # figures of a verdict, and of one file
    {"cli", "__main__", "neuralpde"},  # the command line and the package's face
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """(module imported, name imported or '', line) for every import of a neuralpde module in
    ``path``, at any depth (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("neuralpde"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # `from . import operators`: the module itself
                    out.append((sub, "", node.lineno))
                else:
                    out.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.startswith("neuralpde")]
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "neuralpde"


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, str, int]]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def test_every_module_has_a_layer(graph):
    missing = sorted({_layer(m) for m in graph} - set(LAYER))
    assert not missing, f"modules of no layer: {missing}; add them to LAYERS"


def test_no_module_imports_a_layer_above_its_own(graph):
    upward = [
        f"{src}:{line} imports {dst} ({_layer(src)} is below {_layer(dst)})"
        for src, imports in graph.items()
        for dst, _, line in imports
        if LAYER[_layer(dst)] > LAYER[_layer(src)]
    ]
    assert not upward, "\n".join(upward)


def test_there_is_no_import_cycle(graph):
    edges = {src: {dst for dst, _, _ in imports if dst != src} for src, imports in graph.items()}
    # a package's __init__ re-exports its submodules: an edge from it to them is no cycle
    for src in edges:
        edges[src] = {d for d in edges[src] if not d.startswith(src + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_is_imported_from_another_module(graph):
    private = [
        f"{src}:{line} imports {name} from {dst}"
        for src, imports in graph.items()
        for dst, name, line in imports
        if name.startswith("_") and not name.startswith("__") and dst != src
    ]
    assert not private, "\n".join(private)


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def test_every_module_and_function_fits_a_screen_or_a_few():
    """No module over 600 lines, no function (or method) over 80, docstrings included."""
    long_modules, long_functions = [], []
    for name, path in _modules().items():
        source = path.read_text()
        lines = source.count("\n")
        if lines > MAX_MODULE_LINES:
            long_modules.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}.{node.name}: {size} lines")
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines: {long_modules}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"


def _tested_modules(test_file: Path) -> list[Path]:
    """The package modules ``test_file`` may test: ``tests/a/b/test_c.py`` tests
    ``neuralpde/a/b/c.py`` (or the private ``_c.py``), and ``test_init.py`` the ``__init__.py`` of
    its folder's package."""
    relative = test_file.relative_to(TESTS)
    folder = PACKAGE.joinpath(*relative.parts[:-1])
    name = relative.stem.removeprefix("test_")
    if name == "init":
        return [folder / "__init__.py"]
    return [folder / f"{name}.py", folder / f"_{name}.py"]


def test_every_test_file_mirrors_a_package_module():
    """Outside ``tests/repository/`` (the tests of the catalog, the scripts, the docs, these rules),
    each ``test_*.py`` has the module it tests at the same place in ``neuralpde/``."""
    orphans = [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("test_*.py"))
        if path.relative_to(TESTS).parts[0] != "repository"
        and not any(module.is_file() for module in _tested_modules(path))
    ]
    assert not orphans, (
        f"test files that mirror no module of the package: {orphans}; name each after the module "
        "it tests (tests/a/test_b.py for neuralpde/a/b.py or neuralpde/a/_b.py, test_init.py for "
        "a package's __init__.py), or move tests of the repository to tests/repository/"
    )
