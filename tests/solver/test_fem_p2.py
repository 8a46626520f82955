"""The Basis-free P2 helpers agree with scikit-fem's generic assembly on a curved mesh, and the
vectorised barycentric transforms with scipy's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.interpolate import LinearNDInterpolator
from skfem import Basis, ElementTetP2, ElementVector, MeshTet, MeshTet2, asm
from skfem.models.elasticity import lame_parameters, linear_elasticity
from skfem.models.poisson import laplace

from solver.electrolyte import _stiffness
from solver.fem_p2 import facet_dofs, laplace_stiffness, p2_gradients, quadrature
from solver.grid import scattered_interpolant


def _curved_mesh() -> MeshTet2:
    s = np.linspace(0.0, 0.5, 4)
    ref = MeshTet2.from_mesh(MeshTet.init_tensor(s, s, np.linspace(0.0, 1.0, 4)))
    x, y, z = ref.doflocs
    return replace(ref, doflocs=np.vstack([x, y, 0.1 * np.cos(5 * x) * np.cos(4 * y) + 1.5 * z]))


def test_gradients_and_laplace_match_a_scikit_fem_basis():
    mesh = _curved_mesh()
    basis = Basis(mesh, ElementTetP2(), intorder=4)
    grads, dx = p2_gradients(mesh, *quadrature(4))
    ref = np.stack([phi[0].grad for phi in basis.basis]).transpose(2, 0, 1, 3)
    assert np.allclose(grads, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    assert np.allclose(dx, basis.dx, rtol=1e-13)
    assert np.array_equal(mesh.dofs.element_dofs, basis.element_dofs)
    assert np.allclose(mesh.doflocs, basis.doflocs, rtol=0, atol=1e-14)
    k = asm(laplace, basis)
    assert abs(laplace_stiffness(mesh) - k).max() <= 1e-12 * abs(k).max()


def test_elastic_stiffness_matches_scikit_fem_linear_elasticity():
    mesh = _curved_mesh()
    lam, mu = lame_parameters(1.0, 0.3)
    vector = Basis(mesh, ElementVector(ElementTetP2()), intorder=4)
    k = asm(linear_elasticity(lam, mu), vector)
    grads, dx = p2_gradients(mesh, *quadrature(4))
    nodes = mesh.dofs.element_dofs.T
    edofs = (3 * nodes[:, :, None] + np.arange(3)).reshape(nodes.shape[0], -1)
    assert np.array_equal(edofs, vector.element_dofs.T)
    mine = _stiffness(grads, dx, edofs, vector.N, lam, mu)
    assert abs(mine - k).max() <= 1e-12 * abs(k).max()


def test_facet_dofs_are_the_facet_nodes():
    s = np.linspace(0.0, 0.5, 4)
    mesh = MeshTet2.from_mesh(MeshTet.init_tensor(s, s, np.linspace(0.0, 1.0, 4)))  # straight
    facets = mesh.boundary_facets()
    dofs = facet_dofs(mesh, facets)
    p = mesh.doflocs
    assert np.array_equal(dofs[:3], np.sort(mesh.facets[:, facets], axis=0))  # vertex DOFs
    for edge, (a, b) in zip(dofs[3:], ((0, 1), (1, 2), (0, 2)), strict=True):
        assert np.allclose(p[:, edge], 0.5 * (p[:, dofs[a]] + p[:, dofs[b]]), atol=1e-15)


def test_scattered_interpolant_is_scipys_linear_inside_and_nearest_outside():
    rng = np.random.default_rng(3)
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 9), np.linspace(0, 1, 7)), -1).reshape(-1, 2)
    for points in (rng.random((200, 2)), grid):
        values = np.sin(3 * points[:, 0]) + points[:, 1] ** 2
        q = rng.random((500, 2))
        expected = LinearNDInterpolator(points, values)(q[:, 0], q[:, 1])
        inside = np.isfinite(expected)
        got = scattered_interpolant(points, values)(q[:, 0], q[:, 1])
        assert np.allclose(got[inside], expected[inside], rtol=0, atol=1e-14)
        assert np.all(np.isfinite(got))
