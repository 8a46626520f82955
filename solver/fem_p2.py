"""Isoparametric P2 tetrahedra (scikit-fem ``MeshTet2``) without a scikit-fem ``Basis``.

The ten scalar basis gradients at given reference points come from one evaluation of the
inverse Jacobian (a ``Basis`` evaluates it once per basis function, and its generic form
assembly loops over the 100 function pairs in Python); element matrices are assembled by one
batched product per element. The DOFs are the mesh's own P2 nodes (``mesh.dofs``,
``mesh.doflocs``), numbered as a ``Basis(mesh, ElementTetP2())`` numbers them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from skfem import ElementTetP2, MeshTet2
from skfem.quadrature import get_quadrature
from skfem.refdom import RefTet

__all__ = ["assemble", "facet_dofs", "laplace_stiffness", "p2_gradients", "quadrature"]

_ELEMENT = ElementTetP2()


def quadrature(order: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reference points (3, nq) and weights (nq,) of scikit-fem's tetrahedron rule."""
    return get_quadrature(RefTet, order)


def p2_gradients(mesh: MeshTet2, points: NDArray[np.float64], weights: NDArray[np.float64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gradients (nel, 10, 3, nq) of the scalar P2 basis functions at the reference ``points``
    (3, nq) of every element, and the integration weights |det J| w (nel, nq)."""
    mapping = mesh.mapping()
    inverse = mapping.invDF(points)  # (3, 3, nel, nq): ∂X_i/∂x_j
    ref = np.stack([_ELEMENT.lbasis(points, k)[1] for k in range(10)])  # (10, 3, nq)
    grads = np.einsum("ijeq,kiq->ekjq", inverse, ref)
    return grads, np.abs(mapping.detDF(points)) * weights


def assemble(local: NDArray[np.float64], edofs: NDArray[np.int64], size: int) -> sp.csr_matrix:
    """Global CSR matrix from element matrices ``local`` (nel, n, n) on the DOFs ``edofs``
    (nel, n); duplicates are summed."""
    n = edofs.shape[1]
    rows = np.repeat(edofs, n, axis=1).ravel()
    cols = np.tile(edofs, (1, n)).ravel()
    return sp.csr_matrix((local.ravel(), (rows, cols)), shape=(size, size))


def laplace_stiffness(mesh: MeshTet2, order: int = 4) -> sp.csr_matrix:
    """∫ ∇φ_i·∇φ_j over the mesh (scikit-fem's default order 4 rule for P2)."""
    grads, dx = p2_gradients(mesh, *quadrature(order))
    nel = grads.shape[0]
    g = grads.reshape(nel, 10, -1)  # (nel, 10, 3 nq)
    gw = (grads * dx[:, None, None, :]).reshape(nel, 10, -1)
    local = np.matmul(gw, g.transpose(0, 2, 1))
    return assemble(local, mesh.dofs.element_dofs.T, mesh.doflocs.shape[1])


def facet_dofs(mesh: MeshTet2, facets: NDArray[np.int64]) -> NDArray[np.int64]:
    """(6, nf) P2 DOFs of facets: vertices a < b < c, then edges ab, bc, ac."""
    nv = mesh.nvertices
    tri = np.sort(mesh.facets[:, facets], axis=0)
    keys = mesh.edges[0].astype(np.int64) * nv + mesh.edges[1]
    order = np.argsort(keys)
    keys = keys[order]
    edge_dofs = mesh.dofs.edge_dofs[0]

    def edge(p: NDArray[np.int64], q: NDArray[np.int64]) -> NDArray[np.int64]:
        return edge_dofs[order[np.searchsorted(keys, p.astype(np.int64) * nv + q)]]

    vert = mesh.dofs.nodal_dofs[0]
    return np.stack([vert[tri[0]], vert[tri[1]], vert[tri[2]],
                     edge(tri[0], tri[1]), edge(tri[1], tri[2]), edge(tri[0], tri[2])])
