"""Finding a ``dot`` program: a system Graphviz, or the one the ``graphviz-pure`` wheel installs.

The ``graphviz`` package runs whatever ``graphviz.backend.dot_command.DOT_BINARY`` names (``dot``
by default, looked up on PATH). pip puts graphviz-pure's binary in the virtual environment's
``bin/`` as ``graphviz-pure``, which is not found under that name, and not at all when the
environment is not activated (a kernel started as ``.venv/bin/jupyter lab``). So we look the file
up in the distribution's RECORD instead, which works with or without PATH.

Order of preference: ``$SFNLAB_DOT`` (e.g. ``SFNLAB_DOT=dot``), then a ``dot`` on PATH, then the
bundled graphviz-pure. Never call ``graphviz.version()``: it cannot parse graphviz-pure's ``-V``.
"""
from __future__ import annotations

import importlib.metadata as metadata
import os
import pathlib
import shutil

import graphviz.backend.dot_command as _dot_command

__all__ = ["configure_dot", "bundled_dot"]

_BINARY_NAMES = frozenset({"graphviz-pure", "graphviz-pure.exe"})


def bundled_dot() -> pathlib.Path | None:
    """The ``graphviz-pure`` executable installed with sfnlab, or None when it is not installed."""
    try:
        dist = metadata.distribution("graphviz-pure")
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name in _BINARY_NAMES:
            path = pathlib.Path(str(dist.locate_file(file))).resolve()
            if path.is_file():
                return path
    return None


def configure_dot() -> pathlib.Path:
    """Point the ``graphviz`` package at a working ``dot``; returns the program it will run.

    Leaves the setting alone when there is no better choice (no system ``dot`` and no
    graphviz-pure): rendering then raises :class:`graphviz.ExecutableNotFound`, and the DOT
    source is still available.
    """
    choice = os.environ.get("SFNLAB_DOT")
    if choice:
        _dot_command.DOT_BINARY = pathlib.Path(choice)
    elif shutil.which("dot") is None:
        bundled = bundled_dot()
        if bundled is not None:
            _dot_command.DOT_BINARY = bundled
    return pathlib.Path(_dot_command.DOT_BINARY)
