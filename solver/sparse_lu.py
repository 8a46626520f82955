"""Sparse LU of the creep solver's saddle-point systems, ordered by nested dissection.

SuperLU's own orderings are minimum-degree ones; on the 3D creep meshes a nested-dissection
ordering (METIS, through pymetis) of the symmetrised pattern gives sparser factors, so both the
factorization and every triangular solve (the GMRES preconditioner) are cheaper
(docs/benchmarks.md, "Nested-dissection ordering"). The ordering depends on the pattern only, which
changes little during a solve, so it is computed once per pattern and kept.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict

import numpy as np
import pymetis
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

__all__ = ["LU", "NESTED_DISSECTION_MIN", "OrderedLU", "factorize", "nested_dissection"]

NESTED_DISSECTION_MIN = 15000  # unknowns from which the ordering pays for itself
_ORDERINGS: OrderedDict[bytes, NDArray[np.int64]] = OrderedDict()
_KEEP = 8  # orderings kept (a mesh's first and later Newton systems may differ in pattern)
logger = logging.getLogger(__name__)
_LOCK = threading.Lock()  # predictions factorize in threads


class OrderedLU:
    """LU of P·A·Pᵀ that solves A x = b (P: the permutation ``perm``)."""

    def __init__(self, lu: spla.SuperLU, perm: NDArray[np.int64]) -> None:
        self.lu = lu
        self.perm = perm
        self.shape = lu.shape

    def solve(self, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        y = self.lu.solve(rhs[self.perm])
        x = np.zeros_like(y)
        x[self.perm] = y
        return x


LU = spla.SuperLU | OrderedLU


def nested_dissection(matrix: sp.csc_matrix) -> NDArray[np.int64]:
    """Nested-dissection permutation of ``matrix``'s symmetrised pattern (kept per pattern)."""
    digest = hashlib.blake2b(np.int64(matrix.shape[0]).tobytes() + matrix.indptr.tobytes()
                             + matrix.indices.tobytes(), digest_size=16).digest()
    with _LOCK:
        perm = _ORDERINGS.get(digest)
        if perm is not None:
            _ORDERINGS.move_to_end(digest)
            return perm
    coo = matrix.tocoo()
    off = coo.row != coo.col  # no self-loops (setdiag is unreliable across scipy versions)
    rows = np.concatenate([coo.row[off], coo.col[off]])
    cols = np.concatenate([coo.col[off], coo.row[off]])
    graph = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=matrix.shape)
    graph.sum_duplicates()
    graph.sort_indices()
    order, _ = pymetis.nested_dissection(
        adjacency=pymetis.CSRAdjacency(graph.indptr, graph.indices))
    perm = np.asarray(order, dtype=np.int64)
    with _LOCK:
        _ORDERINGS[digest] = perm
        while len(_ORDERINGS) > _KEEP:
            _ORDERINGS.popitem(last=False)
    return perm


def _finite(lu: LU) -> bool:
    return bool(np.all(np.isfinite(lu.solve(np.ones(lu.shape[0])))))


def factorize(matrix: sp.csc_matrix) -> LU:
    """Sparse LU with diagonal pivots in symmetric mode: from ``NESTED_DISSECTION_MIN``
    unknowns on the nested-dissection ordering, below it (and should that one break down) on
    SuperLU's minimum-degree ordering of Aᵀ + A (2-5x faster than the default on these
    systems), with the default partially pivoted factorization as the last resort."""
    symmetric = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}
    if matrix.shape[0] >= NESTED_DISSECTION_MIN:
        try:
            perm = nested_dissection(matrix)
            lu = OrderedLU(spla.splu(matrix[perm, :][:, perm].tocsc(), permc_spec="NATURAL",
                                     **symmetric), perm)
            if _finite(lu):
                return lu
        except Exception as err:  # noqa: BLE001 - any failure of the ordering falls back
            logger.debug("nested-dissection LU failed (%s); minimum-degree ordering", err)
    try:
        lu = spla.splu(matrix, permc_spec="MMD_AT_PLUS_A", **symmetric)
        if _finite(lu):
            return lu
    except RuntimeError:
        pass
    return spla.splu(matrix)
