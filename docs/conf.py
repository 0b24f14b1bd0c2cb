"""Sphinx configuration: autodoc + numpydoc, MathJax, the furo theme; warnings are errors (make docs uses -W)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "homotopy-continuation-nn"
author = "the homotopy-continuation-nn developers"
copyright = "2026, " + author
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
# $...$ and $$...$$ in the markdown pages are math, rendered by MathJax
myst_enable_extensions = ["dollarmath", "amsmath"]
# furo wraps every table in a container that scrolls sideways, so wide tables are not cut
html_theme = "furo"
html_title = "homotopy-continuation-nn"
nitpicky = False
