"""The options that several benchmarks share, with one meaning and one default each."""

from __future__ import annotations

import argparse


def add_profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", default="ci", help="Hypothesis profile of the child runs (default ci)"
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", metavar="PATH", help="write the JSON here instead of benchmarks/results/"
    )


def add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds per child run (default 900)"
    )


def add_suites(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--suites", default="suites", help="the test path the children run (default suites)"
    )
