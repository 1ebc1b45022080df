"""The layers the folders show, held by the imports (CONTRIBUTING.md, "Where things are").

Every `import` in webapp/ counts, at the top of a module or inside a function, so that an import hidden in
a function cannot make a circle or reach up a layer. Each test names the first imports that break its rule.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "webapp"

# Lowest first. A module may import its own layer and the layers below it, never one above.
LAYERS: list[tuple[str, ...]] = [
    ("webapp.core",),
    ("webapp.models",),
    ("webapp.identity", "webapp.units", "webapp.accounts", "webapp.audit"),
    ("webapp.choice",),
    ("webapp.imports",),
    ("webapp.search",),
    ("webapp.seeding",),
    ("webapp.web",),
    ("webapp",),  # the app factory (webapp/__init__.py) wires the web layer together
]
DOMAIN = [name for layer in LAYERS[:-2] for name in layer]
WEB_LIBRARIES = ("flask", "flask_babel", "flask_wtf", "flask_compress", "wtforms", "jinja2", "werkzeug",
                 "markupsafe")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(WEBAPP.rglob("*.py"))}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file; `from pkg import sub` names the submodule when it is one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((node.lineno, sub if sub in MODULES else node.module))
    return found


def layer_of(module: str) -> int:
    """The layer of the longest layer name the module is in (webapp.core.db is in webapp.core, not webapp)."""
    matches = [(len(name), rank) for rank, names in enumerate(LAYERS) for name in names
               if module == name or module.startswith(name + ".")]
    return max(matches)[1]


def graph() -> dict[str, set[str]]:
    return {mod: {m for _line, m in imports_of(path) if m in MODULES and m != mod} for mod, path in MODULES.items()}


def test_every_module_belongs_to_a_layer() -> None:
    loose = [m for m in MODULES if m != "webapp" and layer_of(m) == LAYERS.index(("webapp",))]
    assert not loose, f"modules outside every layer's folder (put them in core/, a domain package or web/): {loose}"


def test_no_import_reaches_up_a_layer() -> None:
    broken = []
    for mod, path in MODULES.items():
        for line, imported in imports_of(path):
            if imported in MODULES and layer_of(imported) > layer_of(mod):
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not broken, "imports from a lower layer to a higher one:\n" + "\n".join(broken)


def test_the_domain_never_imports_the_web_libraries() -> None:
    broken = []
    for mod, path in MODULES.items():
        if not any(mod == d or mod.startswith(d + ".") for d in DOMAIN):
            continue
        for line, imported in imports_of(path):
            if imported.split(".")[0] in WEB_LIBRARIES:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not broken, "domain modules importing Flask or its kin:\n" + "\n".join(broken)


def test_no_import_circles() -> None:
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("folder", ["webapp", "bench", "scripts", "tools"])
def test_only_webapp_search_itself_is_imported_from_outside_search(folder: str) -> None:
    broken = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if path.is_relative_to(WEBAPP / "search"):
            continue
        for line, imported in imports_of(path):
            if imported.startswith("webapp.search."):
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not broken, "import `webapp.search` (its public names), not its modules:\n" + "\n".join(broken)


def test_the_rules_are_pure() -> None:
    """The pilots' rules import only the standard library and dateutil: testable without a database, an app or
    a request."""
    allowed_roots = {"__future__", "dataclasses", "datetime", "enum", "typing", "collections", "functools", "dateutil"}
    for name in ("webapp.choice.rules", "webapp.choice.waiting_rules"):
        outside = [m for _line, m in imports_of(MODULES[name])
                   if m.split(".")[0] not in allowed_roots and m not in ("webapp.choice.rules",)]
        assert not outside, f"{name} imports {outside}"


def test_a_module_takes_the_layer_of_its_longest_layer_name() -> None:
    """webapp.core.db is in core, not in the app factory's layer `webapp`; the web layer sits above the domain."""
    assert layer_of("webapp.choice.service") < layer_of("webapp.web.choice.views")
    assert layer_of("webapp.core.db") == 0 and layer_of("webapp") == len(LAYERS) - 1
    assert layer_of("webapp.search.changelog") == LAYERS.index(("webapp.search",))


@pytest.mark.parametrize("folder", ["bench", "scripts", "tools"])
def test_every_webapp_import_of_the_scripts_resolves(folder: str) -> None:
    """The benchmarks and scripts run outside the suite: an import a move left behind is caught here, not by
    the next person who runs them."""
    import importlib
    import importlib.util

    broken = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("webapp")):
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name) and importlib.util.find_spec(f"{node.module}.{alias.name}") is None:
                    broken.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {alias.name}")
    assert not broken, "imports that no longer resolve:\n" + "\n".join(broken)
