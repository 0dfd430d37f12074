"""Writing an export to a path so that a failed write never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

_T = TypeVar("_T")


def write_atomically(path: Path, write: Callable[[str], _T]) -> _T:
    """Call ``write`` with a temporary file's path beside ``path``, then rename it over
    ``path``; on any failure the temporary file is removed and ``path`` left as it was."""
    handle, temporary = tempfile.mkstemp(suffix=path.suffix or ".tmp", dir=path.resolve().parent)
    os.close(handle)
    try:
        result = write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
