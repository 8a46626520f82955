"""The creep solver's sparse LU on a nested-dissection ordering."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import solver.creep as creep
import solver.sparse_lu as sparse_lu
from solver.creep import CreepParameters, solve_creep_dimensionless
from solver.sparse_lu import OrderedLU, factorize, nested_dissection
from templater.geometry import EggBox


def _laplacian_3d(n: int) -> sp.csc_matrix:
    """7-point Laplacian on an n³ grid."""
    d = sp.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    eye = sp.identity(n)
    return (sp.kron(sp.kron(d, eye), eye) + sp.kron(sp.kron(eye, d), eye)
            + sp.kron(sp.kron(eye, eye), d)).tocsc()


def _saddle(n: int, symmetric: bool = True) -> sp.csc_matrix:
    """[[K, Bᵀ], [B, 0]]: K a 3D Laplacian, B one constraint per 2×2×2 block of nodes (a
    zero pressure block, as in the creep systems); not symmetric: the upper block 2·Bᵀ and
    K with a first-order term."""
    m = n // 2
    pair = sp.csr_matrix(np.ones((1, 2)))
    agg = sp.kron(sp.kron(sp.kron(sp.identity(m), pair), sp.kron(sp.identity(m), pair)),
                  sp.kron(sp.identity(m), pair))
    weights = sp.diags(np.arange(n ** 3) % 7 + 1.0)
    b = agg @ weights @ (sp.identity(n ** 3) - sp.eye(n ** 3, k=1))
    k = _laplacian_3d(n)
    if symmetric:
        return sp.bmat([[k, b.T], [b, None]], format="csc")
    skew = 0.3 * (sp.eye(n ** 3, k=1) - sp.identity(n ** 3))
    return sp.bmat([[k + skew, 2.0 * b.T], [b, None]], format="csc")


@pytest.fixture
def nested_from_zero(monkeypatch):
    """The nested-dissection path for every size (the test systems are small)."""
    monkeypatch.setattr(sparse_lu, "NESTED_DISSECTION_MIN", 0)


@pytest.mark.parametrize("symmetric", [True, False])
def test_ordered_lu_solves_a_saddle_point_system(nested_from_zero, symmetric):
    a = _saddle(16, symmetric)
    lu = factorize(a)
    assert isinstance(lu, OrderedLU)
    rhs = np.random.default_rng(0).standard_normal(a.shape[0])
    x = lu.solve(rhs)
    assert np.linalg.norm(a @ x - rhs) <= 1e-11 * np.linalg.norm(rhs)
    assert np.allclose(x, spla.spsolve(a, rhs), rtol=0.0, atol=1e-9 * np.abs(x).max())
    # an integer right-hand side is solved in floating point, as by SuperLU itself
    ones = np.ones(a.shape[0], dtype=int)
    assert np.linalg.norm(a @ lu.solve(ones) - ones) <= 1e-11 * np.linalg.norm(ones)


def test_a_failing_ordering_falls_back_to_minimum_degree(nested_from_zero, monkeypatch):
    def broken(matrix):
        raise AttributeError("no METIS")

    monkeypatch.setattr(sparse_lu, "nested_dissection", broken)
    a = _saddle(8)
    lu = factorize(a)
    assert not isinstance(lu, OrderedLU)
    rhs = np.ones(a.shape[0])
    assert np.linalg.norm(a @ lu.solve(rhs) - rhs) <= 1e-11 * np.linalg.norm(rhs)


def test_nested_dissection_is_a_permutation_kept_per_pattern():
    a = _laplacian_3d(12)
    sparse_lu._ORDERINGS.clear()
    perm = nested_dissection(a)
    assert np.array_equal(np.sort(perm), np.arange(a.shape[0]))
    assert nested_dissection(a * 3.0) is perm  # same pattern, other values: kept
    assert nested_dissection(_laplacian_3d(10)) is not perm


@pytest.mark.parametrize("n", [16, 24])
def test_nested_dissection_fills_less_than_minimum_degree_on_3d_grids(nested_from_zero, n):
    """Nested dissection's factors of a 3D grid Laplacian are sparser than those of SuperLU's
    minimum-degree ordering (the reason the creep solver uses it)."""
    a = _laplacian_3d(n)
    nd = factorize(a)
    mmd = spla.splu(a, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                    options={"SymmetricMode": True})
    assert nd.lu.L.nnz + nd.lu.U.nnz < 0.8 * (mmd.L.nnz + mmd.U.nnz)


def test_creep_solve_is_the_same_with_either_ordering(monkeypatch):
    """An egg-box creep solve (10 301 unknowns) gives the same Π on both orderings."""
    design = EggBox(height_um=25.0, period_um=150.0)
    kinds = []
    real = creep.factorize

    def counted(matrix):
        lu = real(matrix)
        kinds.append(isinstance(lu, OrderedLU))
        return lu

    def current(x, y):
        return 1.0 + 0.3 * np.cos(2 * np.pi * x / 150.0) * np.cos(2 * np.pi * y / 150.0)

    monkeypatch.setattr(creep, "factorize", counted)
    monkeypatch.setattr(sparse_lu, "NESTED_DISSECTION_MIN", 4000)
    nd = solve_creep_dimensionless(design, current, CreepParameters(), divisions=6)
    assert kinds and all(kinds)
    monkeypatch.setattr(sparse_lu, "NESTED_DISSECTION_MIN", 10 ** 12)
    kinds.clear()
    mmd = solve_creep_dimensionless(design, current, CreepParameters(), divisions=6)
    assert kinds and not any(kinds)
    assert nd.pressure.max() == pytest.approx(mmd.pressure.max(), rel=1e-7)
