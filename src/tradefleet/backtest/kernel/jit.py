"""numba's ``njit`` with an on-disk cache, typed for mypy, and the kernel's array types.

``cache=True`` stores the machine code next to the sources (or under
``NUMBA_CACHE_DIR``), so only the first run on a machine pays the compilation; later
processes load it in well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

F = TypeVar("F", bound=Callable[..., Any])

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B1 = npt.NDArray[np.bool_]
# oi, of, di, df, dl, bi, bf, fi, ff, ri, rf (see ``layout``)
State = tuple[I64, F64, I64, F64, I64, I64, F64, I64, F64, I64, F64]


_WITHOUT_NRT: dict[str, Any] = {"_nrt": False}  # numba's option, missing from its type hints


def jit(func: F) -> F:
    """Compile ``func`` in nopython mode, cached on disk, without numba's reference
    counting: the kernel's working functions never allocate, and counting references
    to every array argument of every call cost more than their whole work."""
    return cast(F, numba.njit(cache=True, **_WITHOUT_NRT)(func))


def jit_alloc(func: F) -> F:
    """``jit`` for the few functions that allocate arrays (they need the reference
    counting runtime)."""
    return cast(F, numba.njit(cache=True)(func))
