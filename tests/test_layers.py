"""The layers hold: web -> domain -> geo -> core, the domain Flask-free, no cycles.

The contracts live in pyproject.toml ([tool.importlinter]) and run here, so a change
that makes a domain module import Flask, or geo reach up into the registry, fails
the suite instead of drifting in quietly.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import grimp
import pytest
from importlinter.application.use_cases import SUCCESS, lint_imports
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parent.parent


def test_every_layer_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml")) == SUCCESS
    out = capsys.readouterr().out
    assert "Contracts: " in out and " 0 kept" not in out, out  # the contracts were read
    assert kept, out


@pytest.mark.parametrize("parent", ["stationfinder", "stationfinder.web"])
def test_no_two_packages_import_each_other(parent: str) -> None:
    graph = grimp.build_graph("stationfinder")
    children = sorted(graph.find_children(parent))
    loops = [
        (a, b)
        for a, b in itertools.combinations(children, 2)
        if graph.chain_exists(a, b, as_packages=True) and graph.chain_exists(b, a, as_packages=True)
    ]
    assert loops == []
