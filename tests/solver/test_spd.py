"""Mixed-precision SPD solves agree with float64 SuperLU and fall back on ill-conditioned
matrices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solver.spd import SpdSolver


def _laplacian(n: int) -> sp.csc_matrix:
    """3-D 7-point Laplacian plus a small shift (SPD)."""
    d = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    eye = sp.identity(n)
    a = (sp.kron(sp.kron(d, eye), eye) + sp.kron(sp.kron(eye, d), eye)
         + sp.kron(sp.kron(eye, eye), d))
    return sp.csc_matrix(a + 1e-3 * sp.identity(n**3))


def test_refined_solution_matches_double_precision():
    a = _laplacian(12)
    b = np.random.default_rng(0).standard_normal(a.shape[0])
    solver = SpdSolver(a)
    x = solver.solve(b)
    ref = spla.spsolve(a, b)
    assert solver._lu is not None  # the single-precision path was taken
    assert np.max(np.abs(x - ref)) <= 1e-12 * np.max(np.abs(ref))
    assert np.all(solver.solve(np.zeros_like(b)) == 0.0)


def test_ill_conditioned_matrix_falls_back_to_double_precision():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    a = sp.csc_matrix((q * np.logspace(0.0, -9.0, 40)) @ q.T)  # SPD, condition number 1e9
    b = rng.standard_normal(40)
    solver = SpdSolver(a)
    x = solver.solve(b)
    assert solver._lu64 is not None  # refinement in single precision gave up
    ref = np.linalg.solve(a.toarray(), b)
    assert np.max(np.abs(x - ref)) <= 1e-5 * np.max(np.abs(ref))
