"""Finds and loads the compiled gnnrec library (``libgnnrec.so``).

Looked for, in order:

1. next to this file, where ``pip install .`` puts it;
2. at the path in the environment variable ``GNNREC_LIBRARY`` (a development
   build, e.g. ``GNNREC_LIBRARY=build/libgnnrec.so``).
"""
import os
import pathlib

import torch

_LIBRARY_NAME = "libgnnrec.so"
_ENV_VAR = "GNNREC_LIBRARY"


def _find_library() -> pathlib.Path:
    installed = pathlib.Path(__file__).resolve().parent / _LIBRARY_NAME
    if installed.is_file():
        return installed
    env = os.environ.get(_ENV_VAR)
    if env and pathlib.Path(env).is_file():
        return pathlib.Path(env).resolve()
    env_text = f"{_ENV_VAR}={env!r} (not a file)" if env else f"{_ENV_VAR} (not set)"
    raise ImportError(
        f"gnnrec: cannot find the compiled library {_LIBRARY_NAME}: looked in the installed "
        f"package ({installed}) and at the environment variable {env_text}. Install the "
        f"package with 'pip install .', or build it ('make build') and set "
        f"{_ENV_VAR}=build/{_LIBRARY_NAME}.")


LIBRARY_PATH = _find_library()
"""The path of the loaded ``libgnnrec.so``."""

torch.ops.load_library(str(LIBRARY_PATH))
