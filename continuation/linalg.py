"""Dense linear algebra of the engine: truncated pseudo-inverses and damped solves."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["pinv_solve", "DampedLeastSquares"]


def pinv_solve(matrix: Tensor, rhs: Tensor, rcond: float, method: str = "auto") -> Tensor:
    """``A^+ b`` with a truncated SVD: singular values below ``rcond * s_max`` are dropped.

    This is the truncation rule of :func:`numpy.linalg.pinv` with the same
    ``rcond``. On the CPU the solve is LAPACK's ``gelsd`` (through
    :func:`torch.linalg.lstsq`), which applies the same rule without forming
    the singular vectors: faster than an explicit :func:`torch.linalg.svd`
    (``python -m benchmarks step-cost`` measures both). Other devices use the
    explicit SVD.

    Parameters
    ----------
    matrix
        ``A``, shape ``(M, P)``.
    rhs
        ``b``, shape ``(M,)``.
    rcond
        Relative cut-off of the singular values.
    method
        ``"auto"`` (``gelsd`` on the CPU, else ``"svd"``), ``"gelsd"`` or
        ``"svd"`` (an explicit SVD).

    Examples
    --------
    >>> import torch
    >>> A = torch.tensor([[1.0, 0.0], [0.0, 1e-12]], dtype=torch.float64)
    >>> pinv_solve(A, torch.tensor([1.0, 1.0], dtype=torch.float64), rcond=1e-8)
    tensor([1., 0.], dtype=torch.float64)
    """
    if method not in ("auto", "gelsd", "svd"):
        raise ValueError(f"method must be 'auto', 'gelsd' or 'svd', got {method!r}")
    if not bool(torch.isfinite(matrix).all()):
        raise torch.linalg.LinAlgError("pinv_solve: the matrix has non-finite entries")
    if matrix.numel() == 0 or int(torch.count_nonzero(matrix)) == 0:
        return torch.zeros(matrix.shape[1], dtype=matrix.dtype, device=matrix.device)
    if method == "gelsd" or (method == "auto" and matrix.device.type == "cpu"):
        return torch.linalg.lstsq(matrix, rhs[:, None], rcond=rcond, driver="gelsd").solution[:, 0]
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    keep = s > rcond * s[0]
    coefficients = (u[:, keep].T @ rhs) / s[keep]
    return vh[keep].T @ coefficients


class DampedLeastSquares:
    """Solves ``(J^T J + mu I) d = -J^T r`` for several ``mu`` from one Gram matrix.

    The smaller of the two Gram matrices is formed once: the kernel
    ``K = J J^T`` (M x M) when ``M < P``, giving ``d = -J^T (K + mu I)^{-1} r``,
    otherwise ``J^T J`` (P x P). Each damping then costs one Cholesky
    factorisation of that matrix, which is what Levenberg-Marquardt needs when
    it retries a step with a larger ``mu``.

    Parameters
    ----------
    jacobian
        ``J``, shape ``(M, P)``.
    residual
        ``r``, shape ``(M,)``.

    Examples
    --------
    >>> import torch
    >>> J = torch.eye(2, dtype=torch.float64)
    >>> DampedLeastSquares(J, torch.ones(2, dtype=torch.float64)).step(1.0)
    tensor([-0.5000, -0.5000], dtype=torch.float64)
    """

    def __init__(self, jacobian: Tensor, residual: Tensor):
        m, p = jacobian.shape
        self.jacobian = jacobian
        self.kernel_form = m < p
        if self.kernel_form:
            self.gram, self.rhs = jacobian @ jacobian.T, residual
        else:
            self.gram, self.rhs = jacobian.T @ jacobian, jacobian.T @ residual
        self.identity = torch.eye(self.gram.shape[0], dtype=jacobian.dtype)

    @property
    def scale(self) -> float:
        """The mean eigenvalue of the Gram matrix, ``trace / n``: the natural unit of ``mu``."""
        return float(torch.diagonal(self.gram).mean())

    def step(self, mu: float) -> Tensor:
        """The damped Gauss-Newton step ``d(mu)``; NaN where ``K + mu I`` is not positive definite."""
        factor, info = torch.linalg.cholesky_ex(self.gram + mu * self.identity)
        if int(info) != 0:
            return torch.full((self.jacobian.shape[1],), math.nan, dtype=self.jacobian.dtype)
        solution = torch.cholesky_solve(self.rhs[:, None], factor)[:, 0]
        return -(self.jacobian.T @ solution) if self.kernel_form else -solution
