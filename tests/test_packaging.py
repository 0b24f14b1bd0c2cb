"""What `pip install .` ships: our `pde` (not py-pde's), and not the benchmarks."""

import configparser
from pathlib import Path

import setuptools

import continuation
import pde

ROOT = Path(__file__).resolve().parent.parent


def test_import_pde_gives_this_projects_catalogue_not_py_pde():
    # py-pde installs a top-level package of the same name; ours is the one beside `continuation`
    assert Path(pde.__file__).resolve().parent.parent == Path(continuation.__file__).resolve().parent.parent
    assert hasattr(pde, "AllenCahn1D") and hasattr(pde, "sampling")


def test_installed_packages_leave_out_benchmarks_and_examples():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    include = config["options.packages.find"]["include"].split()
    packages = set(setuptools.find_packages(where=ROOT, include=include))
    assert {"continuation", "pde", "models", "dynamics"} <= packages
    assert not {p for p in packages if p.split(".")[0] in ("benchmarks", "examples", "tests")}
