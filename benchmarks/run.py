"""Teeth and speed: mutation testing of the conformance suites, and how fast they run.

    python benchmarks/run.py mutants --profile ci          every mutant against the suites
    python benchmarks/run.py mutants --profile ci --quick  a fast, diverse subset (CI)
    python benchmarks/run.py speed                         throughput, oracle timings, peak memory
    python benchmarks/run.py wall                          whole-run wall time, -n 1 and -n 2
    python benchmarks/run.py rediscover                    registry off: which registered bugs
                                                           the suites find again
    python benchmarks/run.py platforms                     where each known issue reproduces
    python benchmarks/run.py markdown                      RESULTS.md's tables from the results

`python benchmarks/run.py COMMAND --help` lists a command's options; each command's
module (benchmarks/mutation.py, speed.py, wall.py, rediscover.py, platform_sweep.py,
tables.py) says what it measures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

# After the path fix above.
from benchmarks import (  # noqa: E402
    mutation,
    platform_sweep,
    rediscover,
    speed,
    tables,
    wall,
)


class Command(Protocol):
    """A benchmark's module: its options, and its run, whose exit status main returns."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def main(self, options: argparse.Namespace) -> int: ...


COMMANDS: dict[str, Command] = {
    "mutants": mutation,
    "speed": speed,
    "wall": wall,
    "rediscover": rediscover,
    "platforms": platform_sweep,
    "markdown": tables,
}


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        doc = module.__doc__ or ""
        sub = commands.add_parser(
            name,
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    return COMMANDS[options.command].main(options)


if __name__ == "__main__":
    sys.exit(main())
