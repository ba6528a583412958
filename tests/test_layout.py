"""The package's layout is its architecture: the kernel imports no array library, the layers import
only downwards (``cli``/doors -> ``io`` -> ``models`` -> ``steps`` -> ``kernel`` -> ``backends``),
nothing imports in a cycle, the public names stay, and the module paths before 0.2.0 say where
they went."""

from __future__ import annotations

import ast
import importlib
import sys
import types
import warnings
from pathlib import Path

import pytest

import arraynet
from arraynet._moved import MOVED

PACKAGE = Path(arraynet.__file__).parent
ARRAY_LIBRARIES = {"numpy", "cupy", "torch", "jax", "dask", "array_api_strict"}


def is_array_library(module: str) -> bool:
    """An array library, or array-api-compat's wrapper of one (``array_api_compat.numpy``);
    array-api-compat itself (``array_namespace``, ``device``) is the Array API's helper."""
    parts = module.split(".")
    return parts[0] in ARRAY_LIBRARIES or (parts[0] == "array_api_compat" and len(parts) > 1 and parts[1] in ARRAY_LIBRARIES)
# the layers, lowest first; a module imports (at module level) only from its own layer or below
LAYERS = [
    ("arraynet._version", "arraynet.backends"),
    ("arraynet._validation",),
    ("arraynet.kernel",),
    ("arraynet.steps",),
    ("arraynet.models",),
    ("arraynet.io",),
    ("arraynet.plots", "arraynet.sklearn", "arraynet.cli", "arraynet._moved"),
    ("arraynet.__main__",),
]


def module_name(path: Path) -> str:
    parts = ("arraynet",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _import_time_nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes that run when the module is imported: everything but the bodies of functions
    (their decorators and default values do run)."""
    nodes: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        nodes.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            run_now = [*getattr(node, "decorator_list", []), *node.args.defaults, *node.args.kw_defaults]
            for child in run_now:
                if child is not None:
                    visit(child)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return nodes


def imports(name: str, module_level_only: bool) -> set[str]:
    """The modules that module ``name`` imports (at import time only, with ``module_level_only``),
    relative imports resolved (``from . import x`` counts as importing ``x`` where ``x`` is a
    module), ``importlib.import_module("x")`` and ``__import__("x")`` with a literal name included."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = _import_time_nodes(tree) if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")
        ):
            found.add(node.args[0].value)
    return found - {name}


def layer(name: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return index
    return len(LAYERS)  # the package's __init__: above everything


def test_every_module_has_a_layer():
    assert [name for name in MODULES if layer(name) == len(LAYERS) and name != "arraynet"] == []


@pytest.mark.parametrize("name", [name for name in MODULES if name.startswith("arraynet.kernel")])
def test_the_kernel_imports_no_array_library(name):
    """Array API only: the namespace comes in as ``xp``. The host RNG of initialization is
    the one NumPy use allowed (the epochs' shuffles are drawn in ``arraynet.steps.plan``)."""
    libraries = {module for module in imports(name, module_level_only=False) if is_array_library(module)}
    allowed = {"numpy"} if name == "arraynet.kernel.initialization" else set()
    assert libraries <= allowed, f"{name} imports {sorted(libraries - allowed)}"
    # and holds none, however it got there (a name re-exported by another module)
    module = importlib.import_module(name)
    held = {
        value.__name__
        for value in vars(module).values()
        if isinstance(value, types.ModuleType) and is_array_library(value.__name__)
    }
    assert held <= allowed, f"{name} holds the modules {sorted(held - allowed)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_import_only_from_their_layer_or_below(name):
    upwards = [
        other
        for other in imports(name, module_level_only=True)
        if other.startswith("arraynet") and other in MODULES and layer(other) > layer(name)
    ]
    assert upwards == [], f"{name} (layer {layer(name)}) imports {upwards} from above"


def test_no_module_imports_in_a_cycle():
    graph = {
        name: {other for other in imports(name, module_level_only=True) if other in MODULES and other != "arraynet"}
        for name in MODULES
    }
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        path.append(name)
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                pytest.fail("import cycle: " + " -> ".join(path[path.index(other):] + [other]))
            if other not in state:
                visit(other)
        path.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_models_reach_io_only_inside_a_function():
    for name in MODULES:
        if name.startswith("arraynet.models"):
            assert not {other for other in imports(name, True) if other.startswith("arraynet.io")}, name


def test_the_public_names_are_those_of_0_1_0_and_those_added_since():
    assert sorted(arraynet.__all__) == sorted([
        "BACKENDS", "Activation", "DivergenceError", "History", "LayerCache", "LeakyReLU", "LogisticRegression",
        "ModelFileError", "NeuralNetwork", "NotFittedError", "ReLU", "Sigmoid", "Tanh", "asarray",
        "available_backends", "backward", "compute_cost", "forward", "initialize_parameters", "load",
        "load_circles", "load_csv", "load_data", "load_flower", "load_h5", "load_moons", "load_npz", "update",
        "load_zarr",  # 0.3.0
        "Optimizer", "GradientDescent", "Momentum", "RMSprop", "Adam", "Decay",  # 0.3.0: mini-batches and optimizers
        "gradient_check", "Softmax", "EarlyStopping", "limit_threads",  # 0.3.0
    ])
    for name in arraynet.__all__:
        assert getattr(arraynet, name) is not None
    assert arraynet.__version__ == "0.2.0"


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_a_module_path_before_0_2_0_still_imports_and_says_where_it_went(old, new, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=rf"{old} moved to {new} in arraynet 0\.2\.0; import it from there"):
        alias = importlib.import_module(old)
    target = importlib.import_module(new)
    public = getattr(target, "__all__", None) or [name for name in vars(target) if not name.startswith("_")]
    for name in public:
        assert getattr(alias, name) is getattr(target, name)


def test_an_old_path_reached_as_an_attribute_warns_too(monkeypatch):
    monkeypatch.delitem(sys.modules, "arraynet.propagation", raising=False)
    monkeypatch.delattr(arraynet, "propagation", raising=False)
    with pytest.warns(DeprecationWarning, match="arraynet.propagation moved to arraynet.kernel.propagation") as caught:
        forward = arraynet.propagation.forward
    assert forward is arraynet.forward
    assert caught[0].filename == __file__  # the warning points at the line that used the old path
    with warnings.catch_warnings(), pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        arraynet.nothing  # noqa: B018
