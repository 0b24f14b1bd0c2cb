"""Linear algebra of the engine: truncated pseudo-inverses and damped least-squares solves,
dense (a Jacobian formed) or matrix-free (products with ``J`` and ``J^T`` only, by conjugate
gradients with a randomized Nystrom preconditioner)."""

from __future__ import annotations

import math
from typing import Callable, Optional, Union

import torch
from torch import Tensor

__all__ = ["pinv_solve", "DampedLeastSquares", "conjugate_gradient", "NystromPreconditioner",
           "SketchRank", "MatrixFreeLeastSquares"]


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
        self.identity = torch.eye(self.gram.shape[0], dtype=jacobian.dtype, device=jacobian.device)

    @property
    def scale(self) -> float:
        """The mean eigenvalue of the Gram matrix, ``trace / n``: the natural unit of ``mu``."""
        return float(torch.diagonal(self.gram).mean())

    def step(self, mu: float) -> Tensor:
        """The damped Gauss-Newton step ``d(mu)``; NaN where ``K + mu I`` is not positive definite."""
        factor, info = torch.linalg.cholesky_ex(self.gram + mu * self.identity)
        if int(info) != 0:
            return torch.full((self.jacobian.shape[1],), math.nan, dtype=self.jacobian.dtype, device=self.jacobian.device)
        solution = torch.cholesky_solve(self.rhs[:, None], factor)[:, 0]
        return -(self.jacobian.T @ solution) if self.kernel_form else -solution


def conjugate_gradient(
    apply: Callable[[Tensor], Tensor],
    rhs: Tensor,
    *,
    precondition: Optional[Callable[[Tensor], Tensor]] = None,
    tol: float = 1e-10,
    maxiter: int = 500,
) -> tuple[Tensor, int, float]:
    """Preconditioned conjugate gradients for ``A x = b`` with ``A`` symmetric positive definite.

    Stops when ``||b - A x|| <= tol ||b||`` or after ``maxiter`` iterations.

    Parameters
    ----------
    apply
        ``x -> A x``.
    rhs
        ``b``.
    precondition
        ``r -> M^{-1} r`` for a positive definite ``M`` close to ``A`` (``None``: none).
    tol, maxiter
        The relative residual to reach and the iteration budget.

    Returns
    -------
    tuple
        ``(x, iterations, relative residual)``.

    Examples
    --------
    >>> import torch
    >>> A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    >>> x, iterations, residual = conjugate_gradient(lambda v: A @ v, torch.tensor([1.0, 2.0], dtype=torch.float64))
    >>> torch.allclose(A @ x, torch.tensor([1.0, 2.0], dtype=torch.float64)), iterations
    (True, 2)
    """
    precondition = precondition or (lambda r: r)
    b_norm = float(torch.linalg.vector_norm(rhs))
    x = torch.zeros_like(rhs)
    if b_norm == 0:
        return x, 0, 0.0
    r = rhs.clone()
    z = precondition(r)
    p = z.clone()
    rz = torch.dot(r, z)
    for iteration in range(1, maxiter + 1):
        ap = apply(p)
        curvature = torch.dot(p, ap)
        if not float(curvature) > 0:  # A is not positive definite along p (or p vanished)
            return x, iteration - 1, float(torch.linalg.vector_norm(r)) / b_norm
        step = rz / curvature
        x = x + step * p
        r = r - step * ap
        residual = float(torch.linalg.vector_norm(r)) / b_norm
        if residual <= tol:
            return x, iteration, residual
        z = precondition(r)
        rz_new = torch.dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, maxiter, float(torch.linalg.vector_norm(r)) / b_norm


class NystromPreconditioner:
    """Randomized Nystrom approximation ``A ~ U diag(lam) U^T`` of a positive semidefinite ``A``
    from ``rank`` products, and the preconditioner of ``A + mu I`` it gives.

    Frangella, Tropp and Udell, "Randomized Nystrom preconditioning", SIAM J. Matrix Anal. Appl.
    (2023), Algorithm 2.1 and eq. (5.3): ``M^{-1} = (lam_r + mu) U (diag(lam) + mu I)^{-1} U^T
    + (I - U U^T)``. The sketch also estimates ``trace(A)`` (``trace``) and ``||A||_2`` (``largest``).

    Parameters
    ----------
    apply
        ``x -> A x``.
    size
        The dimension of ``A``.
    rank
        Sketch size (products with ``A``); at most ``size``.
    like
        A tensor whose dtype and device the sketch takes.
    seed
        Seed of the Gaussian test matrix (the same sketch for the same seed).

    Examples
    --------
    >>> import torch
    >>> A = torch.diag(torch.tensor([100.0, 10.0, 1.0, 1e-3], dtype=torch.float64))
    >>> pre = NystromPreconditioner(lambda v: A @ v, 4, rank=4, like=A)
    >>> [round(v, 6) for v in pre.eigenvalues.tolist()]
    [100.0, 10.0, 1.0, 0.001]
    """

    def __init__(self, apply: Callable[[Tensor], Tensor], size: int, rank: int, like: Tensor, seed: int = 0):
        rank = max(1, min(rank, size))
        generator = torch.Generator(device="cpu").manual_seed(seed)
        omega = torch.randn(size, rank, generator=generator, dtype=like.dtype).to(like.device)
        omega, _ = torch.linalg.qr(omega)
        y = torch.empty_like(omega)  # filled column by column: a size x rank matrix is the memory of the sketch
        for i in range(rank):
            y[:, i] = apply(omega[:, i])
        self.trace = float(torch.sum(omega * y)) * size / rank  # E[w^T A w] = trace(A) / size for unit w
        shift = torch.finfo(like.dtype).eps * float(torch.linalg.matrix_norm(y))
        y.add_(omega, alpha=shift)  # the shifted sketch, in place
        gram = omega.T @ y
        del omega
        factor, info = torch.linalg.cholesky_ex((gram + gram.T) / 2)
        if int(info) != 0:  # A is (numerically) zero on the sketch
            self.basis = y[:, :0].clone()
            self.eigenvalues = like.new_zeros(0)
        else:
            b = torch.linalg.solve_triangular(factor, y.T, upper=False).T
            del y
            u, s, _ = torch.linalg.svd(b, full_matrices=False)
            self.basis, self.eigenvalues = u, torch.clamp(s**2 - shift, min=0.0)
        self.largest = float(self.eigenvalues[0]) if self.eigenvalues.numel() else 0.0

    def inverse(self, mu: float) -> Callable[[Tensor], Tensor]:
        """``r -> M^{-1} r``, the preconditioner of ``A + mu I`` (``mu > 0``)."""
        if self.eigenvalues.numel() == 0:
            return lambda r: r / mu
        smallest = float(self.eigenvalues[-1])
        scale = (smallest + mu) / (self.eigenvalues + mu)

        def apply(r: Tensor) -> Tensor:
            coefficients = self.basis.T @ r
            return r + self.basis @ ((scale - 1.0) * coefficients)

        return apply


class SketchRank:
    """The rank of the Nystrom sketches of a sequence of solves, set by what each solve cost.

    A sketch of rank ``r`` costs ``r`` products with ``J^T J``, a
    conjugate-gradient iteration one, so a solve costs ``r + c(r)`` with
    ``c(r)`` the iterations it takes. After the first solve of each sketch
    (its own ``J``, the smallest damping ``mu`` it is asked for):

    - ``c > r``: the solve cost more than its sketch, which had not captured
      the top of the spectrum; the next rank is ``2 r``, up to
      ``sketch_rank_max``;
    - else the rank halves (down to ``sketch_rank``) if the smaller sketch
      is predicted to cost less: preconditioned by a sketch of rank ``k``,
      the spectrum runs from about ``mu`` to ``lam_k + mu`` (``lam`` the
      sketch's eigenvalues), so CG's iterations scale as
      ``sqrt(lam_k + mu)``, and the half rank is predicted to take
      ``c sqrt((lam_{r/2} + mu) / (lam_r + mu))``, read off the sketch just
      made.

    A rank that grew at one hard point of a path so comes back down after
    it, and not below what the spectrum needs.

    A sketch is made afresh for every ``J`` (every Levenberg-Marquardt
    iteration, every Euler step) and kept for the solves of that ``J`` (the
    retries with a larger damping). Kept from one iterate to the next it
    did not pay where it was tried (P4 at eps = 0.066: the next solves ran to
    their iteration cap): down to a damping of 1e-5 of the mean eigenvalue,
    the preconditioner must match the top of the spectrum closely.

    Parameters
    ----------
    sketch_rank
        The rank of the first sketch, and the smallest.
    sketch_rank_max
        The largest rank (at least ``sketch_rank``).

    Examples
    --------
    An operator on which sketches of rank 1 and 2 leave 4 iterations: the rank
    grows to 4, where one iteration is enough, and stays there:

    >>> import torch
    >>> A = torch.diag(torch.tensor([100.0, 10.0, 1.0, 0.1], dtype=torch.float64))
    >>> ranks, b = SketchRank(sketch_rank=1, sketch_rank_max=8), torch.ones(4, dtype=torch.float64)
    >>> for _ in range(5):
    ...     pre = NystromPreconditioner(lambda v: A @ v, 4, ranks.rank, like=b)
    ...     _, iterations, _ = conjugate_gradient(lambda v: A @ v + 1e-3 * v, b, precondition=pre.inverse(1e-3))
    ...     ranks.solved(pre, iterations, 1e-3)
    >>> ranks.rank
    4
    """

    def __init__(self, sketch_rank: int = 50, sketch_rank_max: int = 400):
        if not 1 <= sketch_rank <= sketch_rank_max:
            raise ValueError(f"sketch_rank must lie in [1, sketch_rank_max], got sketch_rank={sketch_rank!r}, "
                             f"sketch_rank_max={sketch_rank_max!r}")
        self.min_rank, self.max_rank = int(sketch_rank), int(sketch_rank_max)
        self.rank = self.min_rank

    def solved(self, sketch: NystromPreconditioner, iterations: int, damping: float) -> None:
        """Count the first solve preconditioned by ``sketch`` (with ``damping``) and set the next rank (a
        sketch capped by the operator's size, smaller than asked, is not grown)."""
        made = sketch.eigenvalues.numel()
        if made < self.rank:
            return
        if iterations > made:
            self.rank = min(2 * self.rank, self.max_rank)
            return
        smaller = max(made // 2, self.min_rank)
        if smaller < made:
            top, bottom = float(sketch.eigenvalues[smaller - 1]), float(sketch.eigenvalues[made - 1])
            predicted = iterations * math.sqrt((top + damping) / (bottom + damping))
            if smaller + predicted < made + iterations:
                self.rank = smaller


class MatrixFreeLeastSquares:
    """Solves ``(J^T J + mu I) d = -J^T r`` for several ``mu`` with products by ``J`` and ``J^T`` only.

    The matrix-free counterpart of :class:`DampedLeastSquares`: conjugate
    gradients on the normal equations, preconditioned by a randomized Nystrom
    approximation of ``J^T J`` made once from ``rank`` products (each a
    ``jvp`` and a ``vjp``). ``J`` is never formed: memory is ``O(P rank)``.

    Parameters
    ----------
    jvp, vjp
        ``v -> J v`` and ``w -> J^T w``.
    residual
        ``r``, shape ``(M,)``.
    size
        ``P``, the number of unknowns.
    rank
        Sketch size of the preconditioner, or a :class:`SketchRank` that
        gives it and learns from the first solve's iterations.
    tol, maxiter
        Relative residual and iteration budget of each conjugate-gradient
        solve.

    Examples
    --------
    >>> import torch
    >>> J = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> r = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64)
    >>> free = MatrixFreeLeastSquares(lambda v: J @ v, lambda w: J.T @ w, r, 2, rank=2)
    >>> torch.allclose(free.step(0.5), DampedLeastSquares(J, r).step(0.5))
    True
    """

    def __init__(self, jvp: Callable[[Tensor], Tensor], vjp: Callable[[Tensor], Tensor], residual: Tensor,
                 size: int, rank: Union[int, SketchRank] = 50, tol: float = 1e-10, maxiter: int = 500):
        self.normal = lambda v: vjp(jvp(v))
        self.gradient = vjp(residual)
        self.ranks = rank if isinstance(rank, SketchRank) else None
        sketch_rank = rank.rank if isinstance(rank, SketchRank) else rank
        self.preconditioner = NystromPreconditioner(self.normal, size, sketch_rank, like=self.gradient)
        self.size, self.rows, self.tol, self.maxiter = size, residual.numel(), tol, maxiter
        self.iterations, self.solves, self.relative_residual = 0, 0, 0.0

    @property
    def scale(self) -> float:
        """``trace(J^T J) / min(M, P)`` (the trace estimated from the sketch): the mean eigenvalue of the
        smaller Gram matrix, the natural unit of ``mu``, as in :class:`DampedLeastSquares`."""
        return self.preconditioner.trace / min(self.size, self.rows)

    @property
    def jacobian_norm(self) -> float:
        """``||J||_F``, estimated from the sketch."""
        return math.sqrt(max(self.preconditioner.trace, 0.0))

    def step(self, mu: float) -> Tensor:
        """The damped Gauss-Newton step ``d(mu)``; conjugate-gradient iterations add up in ``iterations``."""
        solution, iterations, residual = conjugate_gradient(
            lambda v: self.normal(v) + mu * v, -self.gradient, precondition=self.preconditioner.inverse(mu),
            tol=self.tol, maxiter=self.maxiter,
        )
        if self.ranks is not None and self.solves == 0:
            self.ranks.solved(self.preconditioner, iterations, mu)
        self.iterations += iterations
        self.solves += 1
        self.relative_residual = residual
        return solution
