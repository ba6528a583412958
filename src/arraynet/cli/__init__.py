"""The ``arraynet`` command line. Each command is a module of this package with
``register(commands)``, which adds its sub-parser and sets ``run(args) -> exit code``."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence

from .._version import __version__
from . import bench, demo, evaluate, info, predict, sweep, train

__all__ = ["main"]

COMMANDS = (demo, info, train, evaluate, predict, sweep, bench)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arraynet",
        description="Train and benchmark neural networks on any Array API backend.",
    )
    parser.add_argument("--version", action="version", version=f"arraynet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def _show_log_messages() -> None:
    """Print the library's warnings to stderr, once; its INFO messages (which backend "auto"
    chose) are not repeated: the commands that train say the backend in their first line."""
    logger = logging.getLogger("arraynet")
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        logger.addHandler(_StderrHandler(logging.WARNING))


class _StderrHandler(logging.Handler):
    """Writes each message to the ``sys.stderr`` of the moment (not the one at setup)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"arraynet: {record.getMessage()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code: 0 on success, 1 on an error (one line on
    stderr), 130 when interrupted (Ctrl-C: one line, the iteration reached). A usage error
    (argparse's, or options that contradict each other) exits with 2: ``SystemExit(2)``, before
    any data is read."""
    args = _parser().parse_args(argv)
    _show_log_messages()
    previous = signal.signal(signal.SIGTERM, _terminate) if threading.current_thread() is threading.main_thread() else None
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (`arraynet predict ... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        print(f"arraynet: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, ImportError, ArithmeticError, MemoryError) as exc:  # DivergenceError too
        if args.debug:
            raise
        print(f"arraynet: error: {_in_cli_terms(str(exc) or type(exc).__name__)}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends the command as Ctrl-C does (no file half written, no temporary left), exit 143."""
    raise SystemExit(128 + signum)


# the library's argument names as the command line spells them, in its messages
_OPTIONS = {"learning_rate": "--learning-rate", "record_every": "--record-every", "label_column": "--label-column", "num_iterations": "--iterations"}


def _in_cli_terms(message: str) -> str:
    """``message`` with the library's argument names replaced by the options that set them."""
    return re.sub(
        r"\b(" + "|".join(_OPTIONS) + r")\b( = )?",
        lambda match: _OPTIONS[match.group(1)] + (" " if match.group(2) else ""),
        message,
    )
