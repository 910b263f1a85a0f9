"""The package's layering (docs/architecture.md), enforced on the source: every import, including
the ones inside functions, goes to a module of the same or a lower layer, and no two modules
import each other, directly or through others."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "robbench_plugin"

# layer -> modules (the package is ``robbench_plugin``; ``adapters.*`` = every module under adapters/)
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"_version", "errors", "paths", "fileutil", "plotting", "stats", "framework_noise"}),
    ("space", {"space", "costs", "time_model", "encodings", "pareto"}),
    ("data", {"table", "embedded", "release", "download", "synthetic", "train.recipe", "train.schedule", "store", "store.*", "idx", "fashion_mnist", "data_identity",
              "metrics", "release_time"}),
    ("training", {"train", "train.attacks", "train.augment", "train.data", "train.model", "train.loop", "train.builder", "train.environment", "train.plan", "train.parallel",
                  "build_table"}),
    ("benchmark", {"objective", "objective.*", "problem", "grid"}),
    ("benchmark kinds and analyses", {"surrogate", "surrogate.*", "live", "live.*", "proxies", "op_effects", "report"}),
    ("loader", {"loader"}),
    ("adapters", {"adapters", "adapters.*"}),
    ("applications", {"search", "search_seeds", "compare", "compare.*", "cli", "cli.*", "cli_args", ""}),
]


def modules() -> dict[str, Path]:
    """Dotted module name relative to the package ("" = the package) -> file."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> int:
    for i, (_, names) in enumerate(LAYERS):
        if module in names or any(n.endswith(".*") and module.startswith(n[:-1]) for n in names):
            return i
    raise AssertionError(f"module robbench_plugin.{module} is in no layer of tests/test_layering.py "
                         "(and docs/architecture.md): place it")


def _relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The package-relative module that ``from <level dots><name>`` names inside ``module``."""
    base = module.split(".") if module else []
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _literal_prefix(node: ast.expr) -> tuple[str, bool] | None:
    """(text, complete) of a string literal, or of an f-string's literal start (complete=False)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    if isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                text += part.value
            else:
                return text, False
        return text, True
    return None


def scan(module: str, path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """(package modules that ``module`` imports anywhere in its source, imports of the package that
    name no module of it). Every form counts: ``import a.b, c``, ``from . import a, b``, ``from .a
    import b`` (``b`` a module or a name in ``a``), absolute ``robbench_plugin.*`` imports, and
    ``importlib.import_module`` with a literal (relative to ``__package__``/``__name__``) or an
    f-string whose literal start names the modules it can reach."""
    is_package = path.name == "__init__.py"
    found, unresolved = set(), []

    def add(target: str, where: int) -> None:
        if target in known:
            if target != module:
                found.add(target)
        else:
            unresolved.append(f"robbench_plugin.{module or '__init__'} line {where}: no module "
                              f"robbench_plugin.{target}")

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = _relative(module, is_package, node.level, node.module)
            elif (node.module or "") == "robbench_plugin" or (node.module or "").startswith("robbench_plugin."):
                base = node.module[len("robbench_plugin"):].lstrip(".")
            else:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}".lstrip(".")
                add(sub if sub in known else base, node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "robbench_plugin" or alias.name.startswith("robbench_plugin."):
                    add(alias.name[len("robbench_plugin"):].lstrip("."), node.lineno)
        elif isinstance(node, ast.Call) and node.args and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "import_module")):
            literal = _literal_prefix(node.args[0])
            if literal is None:
                unresolved.append(f"robbench_plugin.{module or '__init__'} line {node.lineno}: import_module of a "
                                  "name the checker cannot read")
                continue
            text, complete = literal
            if text.startswith("."):
                level = len(text) - len(text.lstrip("."))
                # relative to __package__ (this module's package) or to __name__ (this module as a package)
                own_name = len(node.args) > 1 and isinstance(node.args[1], ast.Name) and node.args[1].id == "__name__"
                target = _relative(module, is_package or own_name, level, text[level:] or None)
            elif text.startswith("robbench_plugin"):
                target = text[len("robbench_plugin"):].lstrip(".")
            else:
                continue
            if complete:
                add(target.rstrip("."), node.lineno)
            else:  # every module the f-string can reach
                reach = [m for m in known if m.startswith(target) and m != module]
                if not reach:
                    unresolved.append(f"robbench_plugin.{module or '__init__'} line {node.lineno}: import_module "
                                      f"reaches no module robbench_plugin.{target}*")
                found.update(reach)
    return found, unresolved


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Package modules that ``module`` imports anywhere in its source (see :func:`scan`)."""
    return scan(module, path, known)[0]


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def upward(g: dict[str, set[str]]) -> list[str]:
    """Imports of a higher layer, as messages."""
    return [f"robbench_plugin.{m or '__init__'} ({LAYERS[layer_of(m)][0]}) imports robbench_plugin.{d} "
            f"({LAYERS[layer_of(d)][0]})"
            for m, deps in sorted(g.items()) for d in sorted(deps) if layer_of(d) > layer_of(m)]


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """The import circles (strongly connected components of more than one module, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def core_to_adapter(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(core module, adapter) pairs where the core imports an adapter."""
    return [(m, d) for m in sorted(g) if layer_of(m) < layer_of("adapters") for d in sorted(g[m])
            if d.startswith("adapters")]


def test_every_import_goes_down_or_sideways():
    wrong = upward(graph())
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    assert circles(graph()) == []


def test_core_never_imports_an_adapter():
    assert core_to_adapter(graph()) == []


def test_every_package_import_names_a_module():
    """A relative import that resolves to no module of the package (e.g. one dot too few after a
    module moved into a sub-package) is an error here, not an import missed by the checks above."""
    mods = modules()
    wrong = [line for m, p in mods.items() for line in scan(m, p, set(mods))[1]]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_every_form_of_import(tmp_path):
    """Planted imports of each form are all found (so the tests above can fail): inside functions,
    absolute, several names in one statement, a module imported from a package, import_module with
    a literal (relative and absolute) and with an f-string (every module it can reach)."""
    src = tmp_path / "mod.py"
    src.write_text(
        "import importlib\n"
        "from . import space, costs\n"
        "import robbench_plugin.table, robbench_plugin.cli\n"
        "def f():\n"
        "    from .adapters.optuna import x\n"
        "    from .train import loop, model\n"
        "    importlib.import_module('.live', __package__)\n"
        "    importlib.import_module('robbench_plugin.report')\n"
        "    importlib.import_module(f'.surrogate.{name}', __package__)\n")
    known = {"mod", "space", "costs", "table", "cli", "adapters", "adapters.optuna", "train", "train.loop",
             "train.model", "live", "report", "surrogate", "surrogate.model", "surrogate.cache"}
    found, unresolved = scan("mod", src, known)
    assert found == known - {"mod", "adapters", "train", "surrogate"} and unresolved == []
    bad = tmp_path / "bad.py"
    bad.write_text("from .nowhere import x\nfrom ..problem import y\n")
    assert len(scan("pkg.bad", bad, {"pkg", "pkg.bad", "problem"})[1]) == 1  # ..problem from pkg/bad.py is fine
    assert len(scan("pkg.sub.bad", bad, {"pkg.sub.bad", "problem"})[1]) == 2


def test_planted_violations_fail_the_rules(tmp_path):
    """A lower layer importing a higher one, a circle and a core module importing an adapter are each
    reported by the rules' own functions on a planted module graph."""
    graph_ = {"space": {"cli"}, "table": {"release"}, "release": {"table"}, "objective": {"adapters.optuna"},
              "cli": set(), "adapters.optuna": set()}
    assert upward(graph_) == ["robbench_plugin.objective (benchmark) imports robbench_plugin.adapters.optuna "
                              "(adapters)", "robbench_plugin.space (space) imports robbench_plugin.cli (applications)"]
    assert circles(graph_) == [["release", "table"]]
    assert core_to_adapter(graph_) == [("objective", "adapters.optuna")]


def test_no_module_outgrows_one_concept():
    """Modules stay small enough to hold one concept (docs/architecture.md): none over 320 lines; a
    module that grows past that is split by concept, as store, live, objective, the builder and the
    NASLib adapter were."""
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > 320} == {}
