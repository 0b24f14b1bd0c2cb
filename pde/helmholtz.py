"""P3: a Helmholtz-type problem in ``d`` dimensions, ``eps^2 Lap u + u = f_eps`` on ``(0, 1)^d``.

Exact solution ``u = (1/d) sum_i sin(pi x_i / eps)``, forcing
``f_eps = (1 - pi^2) u_exact`` and Dirichlet data from the exact solution on
the faces of the cube. Small ``eps`` means high frequency (spectral bias).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual, StackedResidual
from models import MLP

from .base import NetworkProblem, device_of

__all__ = ["Helmholtz", "default_points_helmholtz", "resonance_gap"]


def default_points_helmholtz(eps: float) -> int:
    """Interior collocation count: ``max(2000, 200 / eps)``.

    2,000 points down to eps = 0.1 (the prototype's count in the spec), then
    growing like the frequency ``1 / eps``.

    Examples
    --------
    >>> default_points_helmholtz(0.1), default_points_helmholtz(0.05)
    (2000, 4000)
    """
    return max(2000, math.ceil(200.0 / eps - 1e-9))


def resonance_gap(d: int, eps: float) -> tuple[float, int]:
    """Distance of ``eps^2 Lap + 1`` (Dirichlet, on ``(0, 1)^d``) from a singular operator.

    The eigenfunctions ``prod_i sin(k_i pi x_i)``, ``k_i >= 1``, have the
    eigenvalues ``1 - eps^2 pi^2 |k|^2``. The smallest of their moduli, the
    *gap*, bounds the solution by the data: ``||u|| <= ||f|| / gap`` for zero
    boundary values. An interior residual of size ``r`` can therefore move
    the solution by ``r / gap``: near resonance a small loss does not mean a
    small error.

    Parameters
    ----------
    d
        Dimension.
    eps
        The homotopy parameter, ``> 0``.

    Returns
    -------
    gap, m
        The gap and the squared wavenumber ``m = |k|^2`` (a sum of ``d``
        squares of positive integers) where it is attained.

    Examples
    --------
    At ``eps = 0.1`` the mode ``k = (1, 3)`` of the square nearly resonates:

    >>> gap, m = resonance_gap(2, 0.1)
    >>> round(gap, 4), m
    (0.013, 10)
    >>> round(resonance_gap(2, 0.5)[0], 2)
    3.93
    """
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    scale = (eps * math.pi) ** 2
    # the eigenvalues decrease in m: the gap lies at m <= the first representable m beyond 1 / scale
    bound = max(d, math.ceil(1.0 / scale)) + 2 * math.isqrt(max(d, math.ceil(1.0 / scale))) + 2
    reachable = {0}
    for _ in range(d):
        reachable = {m + k * k for m in reachable for k in range(1, math.isqrt(bound) + 1) if m + k * k <= bound}
    m = min(reachable, key=lambda m: abs(1.0 - scale * m))
    return abs(1.0 - scale * m), m


def _wavenumbers(d: int, m: int) -> list[tuple[int, ...]]:
    """Every ``k`` of ``d`` positive integers with ``|k|^2 = m``."""
    if d == 0:
        return [()] if m == 0 else []
    return [
        (k, *rest) for k in range(1, math.isqrt(max(m - (d - 1), 0)) + 1) for rest in _wavenumbers(d - 1, m - k * k)
    ]


class Helmholtz(NetworkProblem):
    """P3 in ``d`` dimensions as a residual map ``H(theta, eps)``.

    An interior block ``eps^2 Lap u + u - f_eps`` at ``n_points`` uniform
    random points of ``(0, 1)^d`` and a boundary block ``u - u_exact(eps)`` at
    ``n_boundary`` points, each on a random face (a random axis ``i`` set to 0
    or 1, the other coordinates uniform), each block scaled by
    ``1/sqrt(count)``, the boundary block also by ``boundary_weight``. The
    Laplacian never forms a Hessian: an MLP with tanh or sin carries second
    directional derivatives along the ``d`` axes through its layers
    (:meth:`models.MLP.apply_with_laplacian`), any other model takes ``d``
    forward-over-reverse products (:func:`pde.calculus.laplacian`). The homotopy runs
    ``eps`` from 1 down to the target; the boundary data move with ``eps``.

    The test set of :meth:`l2re` is ``n_test`` uniform random points drawn
    from a generator separate from the collocation points (a grid is
    impossible in high ``d``).

    Parameters
    ----------
    d
        Dimension.
    model
        A network with ``apply(theta, x)``; default MLP d-30-30-30-1, tanh.
    eps_min
        The smallest ``eps`` to be traced, which sets the default point count.
    n_points
        Interior collocation points (default :func:`default_points_helmholtz`).
    n_boundary
        Boundary points (default ``n_points // 4``).
    seed
        Seed of the collocation points (the test points use ``seed + 1``
        in a separate stream).
    boundary_weight
        Weight of the boundary block.
    n_test
        Number of random test points.

    Examples
    --------
    >>> import torch
    >>> problem = Helmholtz(3, eps_min=0.5, n_points=40, n_boundary=10)
    >>> theta = problem.model.init(seed=0)
    >>> problem.residual_map(theta, torch.tensor(0.5, dtype=torch.float64)).shape
    torch.Size([50])
    """

    parameter_name = "eps"
    parameter_start = 1.0

    def __init__(
        self,
        d: int,
        model: Optional[MLP] = None,
        eps_min: float = 0.1,
        n_points: Optional[int] = None,
        n_boundary: Optional[int] = None,
        seed: int = 0,
        boundary_weight: float = 1.0,
        n_test: int = 20_000,
    ):
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"d must be a positive integer, got {d!r}")
        if not (math.isfinite(eps_min) and eps_min > 0):
            raise ValueError(f"eps_min must be a positive number, got {eps_min!r}")
        self.d = d
        self.model = model if model is not None else MLP([d, 30, 30, 30, 1])
        n_points = n_points if n_points is not None else default_points_helmholtz(eps_min)
        n_boundary = n_boundary if n_boundary is not None else max(1, n_points // 4)
        dtype, device = self.model.dtype, device_of(self.model)
        # drawn on the CPU, then moved: a seed gives the same points on every device
        generator = torch.Generator().manual_seed(seed)
        self.points = torch.rand(n_points, d, generator=generator, dtype=dtype).to(device)
        self.boundary_points = self._face_points(n_boundary, generator, dtype).to(device)
        test_generator = torch.Generator().manual_seed(seed + 1)
        self.test_points = torch.rand(n_test, d, generator=test_generator, dtype=dtype).to(device)
        self.residual_map = StackedResidual(
            [
                PointwiseResidual(self.interior_residual, self.points),
                PointwiseResidual(self.boundary_residual, self.boundary_points, boundary_weight),
            ],
            outputs=self.outputs,
        )

    def _face_points(self, count: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """``count`` uniform points, each moved onto a random face of the cube."""
        points = torch.rand(count, self.d, generator=generator, dtype=dtype)
        axis = torch.randint(self.d, (count,), generator=generator)
        side = torch.randint(2, (count,), generator=generator).to(dtype)
        points[torch.arange(count), axis] = side
        return points

    @staticmethod
    def exact(x: Tensor, eps) -> Tensor:
        """``(1/d) sum_i sin(pi x_i / eps)`` at points of shape ``(..., d)``.

        Examples
        --------
        >>> import torch
        >>> float(Helmholtz.exact(torch.tensor([[0.5, 0.5]]), 1.0))
        1.0
        """
        return torch.sin(math.pi * x / eps).mean(dim=-1)

    @classmethod
    def forcing(cls, x: Tensor, eps) -> Tensor:
        """``f_eps = (1 - pi^2) u_exact`` at points of shape ``(..., d)``."""
        return (1.0 - math.pi**2) * cls.exact(x, eps)

    def resonant_error_share(self, theta: Tensor, eps: float) -> float:
        """The share of the squared L2 error that lies in the modes of the resonance gap.

        The error ``e = u_theta - u_exact`` is projected on the Dirichlet
        eigenfunctions ``phi_k = prod_i sin(k_i pi x_i)`` with ``|k|^2 = m``,
        ``m`` from :func:`resonance_gap` (``||phi_k||^2 = 2^-d``); the return
        value is ``sum_k 2^-d c_k^2 / ||e||^2``, ``c_k = 2^d <e, phi_k>``, the
        integrals by the mean over the (uniform random) test points. Near
        resonance a residual that is small everywhere leaves an error
        dominated by these few modes; far from it the share is small.

        Examples
        --------
        >>> problem = Helmholtz(2, n_points=10, n_boundary=4, n_test=20_000)
        >>> problem.resonant_error_share(problem.model.init(seed=0), 0.1) < 0.2
        True
        """
        _, m = resonance_gap(self.d, eps)
        with torch.no_grad():
            x = self.test_points
            error = self.predict(theta, x) - self.exact(x, eps)
            energy = float(torch.mean(error**2))
            share = 0.0
            for k in _wavenumbers(self.d, m):
                mode = torch.sin(math.pi * x * torch.tensor(k, dtype=x.dtype, device=x.device)).prod(dim=-1)
                coefficient = 2.0**self.d * float(torch.mean(error * mode))
                share += 2.0 ** (-self.d) * coefficient**2
        return share / energy

    def interior_residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``eps^2 Lap u + u - f_eps`` at one interior point."""
        u, lap = self.u_and_laplacian(theta, x)
        return eps**2 * lap + u - self.forcing(x, eps)

    def boundary_residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``u - u_exact(eps)`` at one boundary point."""
        return self.u(theta, x) - self.exact(x, eps)
