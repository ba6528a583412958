"""``arraynet info``: each backend with its version, its devices and whether it is usable here
(with the reason when it is not), and the backend that ``"auto"`` picks."""

from __future__ import annotations

import argparse

from .._version import __version__
from ..backends import backend_info, backend_name, namespace_for_backend


def run(args: argparse.Namespace) -> int:
    print(f"arraynet {__version__}")
    infos = backend_info()
    width = max(len(info.name) for info in infos)
    for info in infos:
        version = info.version or "not installed"
        if info.usable:
            state = f"usable, devices: {', '.join(info.devices) or 'none reported'}"
        else:
            state = f"not usable: {info.reason}"
        print(f"  {info.name:<{width}}  {version:<14}  {state}")
    auto = backend_name(namespace_for_backend("auto"))
    cupy = next(info for info in infos if info.name == "cupy")
    why = "" if cupy.usable else f" (CuPy is not usable: {cupy.reason})"
    print(f'backend "auto" picks: {auto}{why}')
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "info", help="list the backends: version, devices, usable or why not, and what 'auto' picks"
    )
    parser.set_defaults(run=run)
