"""Diagonal-mirror reduction of the quarter-cell creep system.

Every design has the mirror symmetry x ↔ y, and the creep mesh (tensor nodes, the same along x
and y) maps onto itself under it, so the discrete solution is mirror-symmetric. The Newton
systems can then be solved in the subspace of mirror-symmetric unknowns, about half of them:
the sparse LU, the dominant cost, gets 5-8 times cheaper (docs/benchmarks.md, "Creep solver")
and the solution is the same to the Newton tolerance.

The mirror acts on the rotated unknowns w̃ = (ũ, p) of :mod:`solver.creep` as R = Tᵀ M T, with M
swapping the nodes (x, y, s) ↔ (y, x, s) and the velocity components u_x ↔ u_y, and T the
interface frames. R is an orthogonal involution; Q holds an orthonormal basis of its +1
eigenspace on the free unknowns, and a Newton step solves (Qᵀ J Q) z = Qᵀ b, δ = Q z.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["MIRROR_TOL", "mirror_basis", "mirror_dofs", "node_mirror"]

_MATCH = 1e-9  # node coordinates are exact tensor values: mirrored nodes coincide to rounding
MIRROR_TOL = 1e-9  # largest relative x <-> y asymmetry of an interface, current or load that a
# mirror-reduced solve symmetrises away (otherwise the full system is solved)


def node_mirror(x: NDArray[np.float64], y: NDArray[np.float64],
                s: NDArray[np.float64]) -> NDArray[np.int64] | None:
    """Index j of the node (y_i, x_i, s_i) for every node i, or None if the node set is not
    mirror-symmetric (different divisions along x and y)."""
    pts = np.column_stack([x, y, s])
    dist, j = cKDTree(pts).query(np.column_stack([y, x, s]))
    if dist.max() > _MATCH or np.unique(j).size != j.size:
        return None
    return j.astype(np.int64)


def mirror_dofs(nodes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Image of every vector DOF 3i + c (components interleaved by node) under the mirror:
    3·nodes[i] + (y, x, z)[c]."""
    return (3 * nodes[:, None] + np.array([1, 0, 2])).ravel()


def mirror_basis(nodes: NDArray[np.int64], n_vertices: int, frames: sp.csr_matrix,
                 free: NDArray[np.int64], tol: float = 1e-9) -> sp.csc_matrix | None:
    """Orthonormal basis Q (free × reduced) of the mirror-symmetric free unknowns.

    ``nodes`` is :func:`node_mirror` of the P2 nodes (vertices first, pressure on the
    vertices), ``frames`` the rotation T of the velocity unknowns (u = T ũ) and ``free`` the
    unknowns not fixed by boundary conditions. None when the mirror does not map the free
    unknowns onto themselves or is not an orthogonal involution there (an asymmetric
    interface frame), i.e. when the problem is not mirror-symmetric.
    """
    nn = nodes.size
    rows = mirror_dofs(nodes)  # (M u)[3j + (y, x, z)] = u[3i + c]
    cols = (3 * np.arange(nn)[:, None] + np.arange(3)).ravel()
    m_u = sp.csr_matrix((np.ones(3 * nn), (rows, cols)), shape=(3 * nn, 3 * nn))
    r_u = (frames.T @ m_u @ frames).tocsr()
    m_p = sp.csr_matrix((np.ones(n_vertices), (nodes[:n_vertices], np.arange(n_vertices))),
                        shape=(n_vertices, n_vertices))
    r = sp.block_diag([r_u, m_p], format="csr")
    r.data[np.abs(r.data) < tol] = 0.0
    r.eliminate_zeros()
    r_ff = r[free][:, free].tocsr()
    # the free set must be invariant: no weight may leave it
    if abs(np.abs(r_ff).sum() - np.abs(r[:, free]).sum()) > tol * free.size:
        return None
    deviation = (r_ff @ r_ff - sp.identity(free.size)).tocsr()
    if deviation.nnz and np.abs(deviation.data).max() > 1e-7:  # not an involution
        return None
    return _plus_space(r_ff)


def _plus_space(r: sp.csr_matrix) -> sp.csc_matrix:
    """Orthonormal basis of {w : R w = w} for a sparse orthogonal involution R whose coupled
    unknowns form small groups (a node, its mirror image and their frames): (I + R)/2 is the
    projector onto that space, diagonalised group by group."""
    n = r.shape[0]
    pattern = (r != 0).astype(np.int8)
    n_groups, label = connected_components(pattern + pattern.T, directed=False)
    order = np.argsort(label, kind="stable")
    size = np.bincount(label, minlength=n_groups)
    start = np.r_[0, np.cumsum(size)]
    q_rows, q_cols, q_vals = [], [], []
    column = 0
    for k in np.unique(size):
        groups = np.flatnonzero(size == k)
        members = order[start[groups][:, None] + np.arange(k)]  # (g, k) unknowns per group
        blocks = np.stack([np.asarray(r[members[:, a], members[:, b]]).ravel()
                           for a in range(k) for b in range(k)], axis=1).reshape(-1, k, k)
        lam, vec = np.linalg.eigh(0.5 * (np.eye(k) + 0.5 * (blocks + blocks.transpose(0, 2, 1))))
        keep = lam > 0.5  # eigenvalues are 0 or 1
        g_idx, e_idx = np.nonzero(keep)
        cols_here = column + np.arange(g_idx.size)
        column += g_idx.size
        q_rows.append(members[g_idx].ravel())
        q_cols.append(np.repeat(cols_here, k))
        q_vals.append(vec[g_idx, :, e_idx].ravel())
    q = sp.csc_matrix((np.concatenate(q_vals), (np.concatenate(q_rows), np.concatenate(q_cols))),
                      shape=(n, column))
    q.data[np.abs(q.data) < 1e-14] = 0.0
    q.eliminate_zeros()
    return q
