"""The laboratory double pendulum (Schmidt and Lipson, Science 2009), as seed 002 uses it.

``data/double_pendulum/real_double_pend_h_1.txt`` holds motion-tracking
measurements of a real double pendulum, as distributed with seed 002's code
(MIT licence, ``data/double_pendulum/LICENSE-source``): two recordings
(trajectory 0: 819 samples, trajectory 1: 701), each sample the time and the
two angles ``o1, o2`` (rad) and angular velocities ``w1, w2`` (rad/s). The
sampling step is 0.01 s with some frames missing (gaps of 0.02 to 0.19 s):
the times are taken as measured.

Seed 002 fits trajectory 0's first 100 samples. There is no noise-free truth,
so a model is scored on samples it was not fitted on: the next 100 samples
of trajectory 0 (extrapolation) and trajectory 1, a different, faster motion
in which both arms turn over many times.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .systems import TrajectoryData

__all__ = ["COLUMNS", "DATA_FILE", "Recording", "LaboratoryData", "load_double_pendulum", "laboratory_data"]

COLUMNS = ("o1", "o2", "w1", "w2")
"""The state columns: the two angles, then the two angular velocities."""

DATA_FILE = Path(__file__).resolve().parent / "data" / "double_pendulum" / "real_double_pend_h_1.txt"
"""The measurements shipped with the package."""


@dataclass(frozen=True)
class Recording:
    """One recorded trajectory, column by column (1-D tensors of equal length).

    Attributes
    ----------
    trajectory
        The recording's id in the file.
    t
        Times (s), as measured (the file's clock; see :meth:`window` to shift them).
    o1, o2, w1, w2
        Angles (rad) and angular velocities (rad/s).
    """

    trajectory: int
    t: Tensor
    o1: Tensor
    o2: Tensor
    w1: Tensor
    w2: Tensor

    def __len__(self) -> int:
        return self.t.shape[0]

    @property
    def state(self) -> Tensor:
        """The columns :data:`COLUMNS` side by side, shape ``(T, 4)``."""
        return torch.stack([getattr(self, name) for name in COLUMNS], dim=1)

    def window(self, start: int, stop: int) -> "Recording":
        """Samples ``start .. stop - 1`` with the time shifted to start at 0.

        Examples
        --------
        >>> part = load_double_pendulum()[0].window(100, 200)
        >>> len(part), float(part.t[0])
        (100, 0.0)
        """
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop - 1 < len(self)):
            raise ValueError(
                f"start and stop must be integers with 0 <= start < stop - 1 < {len(self)}, got {start!r}, {stop!r}"
            )
        t = self.t[start:stop]
        columns = {name: getattr(self, name)[start:stop] for name in COLUMNS}
        return Recording(self.trajectory, t - t[0], **columns)

    def wrapped(self) -> "Recording":
        """The recording with each angle shifted by the multiple of ``2 pi`` that puts its first sample in ``[-pi, pi]``.

        The file's angles are unwrapped (trajectory 1 starts at ``o2 = -46``);
        the physics is ``2 pi``-periodic in the angles but a network is not.

        Examples
        --------
        >>> first = load_double_pendulum()[1].wrapped()
        >>> bool(abs(first.o1[0]) <= math.pi and abs(first.o2[0]) <= math.pi)
        True
        """
        shifts = {name: 2 * math.pi * round(float(getattr(self, name)[0]) / (2 * math.pi)) for name in ("o1", "o2")}
        return Recording(
            self.trajectory, self.t, self.o1 - shifts["o1"], self.o2 - shifts["o2"], self.w1, self.w2
        )


def load_double_pendulum(path: Path | str = DATA_FILE, dtype: torch.dtype = torch.float64) -> dict[int, Recording]:
    """The recordings of the file at ``path`` by trajectory id.

    Parameters
    ----------
    path
        A file in the format of :data:`DATA_FILE`: a header line starting
        with ``%``, then rows of ten numbers, column 0 the trajectory id,
        column 1 the time, columns 2-5 ``o1, o2, w1, w2`` (the rest unused).
    dtype
        Floating dtype of the columns.

    Examples
    --------
    >>> recordings = load_double_pendulum()
    >>> {k: len(r) for k, r in recordings.items()}
    {0: 819, 1: 701}
    >>> tuple(recordings[0].state.shape)
    (819, 4)
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing file, got {str(path)!r}")
    return _load(path.resolve(), dtype)


@functools.lru_cache(maxsize=4)
def _load(path: Path, dtype: torch.dtype) -> dict[int, Recording]:
    """The recordings of :func:`load_double_pendulum`, read once per file."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("%"):
            continue
        fields = line.split()
        if len(fields) < 6:
            raise ValueError(f"{path}: line {number} has {len(fields)} numbers, expected at least 6")
        rows.append([float(value) for value in fields[:6]])
    table = torch.tensor(rows, dtype=dtype)
    recordings = {}
    for trajectory in torch.unique(table[:, 0]).tolist():
        part = table[table[:, 0] == trajectory]
        if not bool((part[1:, 1] > part[:-1, 1]).all()):
            raise ValueError(f"{path}: the times of trajectory {trajectory:g} do not increase")
        recordings[int(trajectory)] = Recording(int(trajectory), part[:, 1], *part[:, 2:6].T)
    return recordings


@dataclass(frozen=True)
class LaboratoryData:
    """The seed's training slice and the held-out slices of the laboratory double pendulum.

    Attributes
    ----------
    fit
        Trajectory 0 as :class:`~dynamics.systems.TrajectoryData`: ``t, y``
        its first ``train`` samples (what a model is fitted on), ``t_dense,
        y_dense`` the first ``train + extrapolate`` measured samples (no
        finer grid, ``refine = 1``); ``interpolation`` marks the fitted
        samples and ``extrapolation`` the next ones. There is no truth: the
        "interpolation MSE" of :class:`~dynamics.training.Monitor` on it is
        the training MSE, and its "extrapolation MSE" is the error on held-out
        measurements.
    other
        The held-out trajectory's first ``other_samples`` samples (angles wrapped,
        :meth:`Recording.wrapped`): ``(t, y)``, shapes ``(M,)`` and ``(M, 4)``.
    """

    fit: TrajectoryData
    other: tuple[Tensor, Tensor]


def laboratory_data(
    train: int = 100, extrapolate: int = 100, other_samples: int = 100, *, path: Path | str = DATA_FILE
) -> LaboratoryData:
    """Seed 002's slice of the laboratory double pendulum and the slices held out for scoring.

    Parameters
    ----------
    train
        Samples of trajectory 0 fitted (seed 002: 100, ``t`` = 0 .. 1.06 s).
    extrapolate
        The next samples of trajectory 0, held out.
    other_samples
        Samples of trajectory 1, held out.
    path
        The measurements (default: the file shipped with the package).

    Examples
    --------
    >>> data = laboratory_data()
    >>> tuple(data.fit.y.shape), tuple(data.fit.y_dense.shape), int(data.fit.extrapolation.sum())
    ((100, 4), (200, 4), 100)
    >>> tuple(data.other[1].shape)
    (100, 4)
    """
    for name, value in (("train", train), ("extrapolate", extrapolate), ("other_samples", other_samples)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    recordings = load_double_pendulum(path)
    first = recordings[0].window(0, train + extrapolate)
    other = recordings[1].window(0, other_samples).wrapped()
    index = torch.arange(len(first))
    fit = TrajectoryData(
        t=first.t[:train], y=first.state[:train], t_dense=first.t, y_dense=first.state,
        interpolation=index < train, extrapolation=index >= train, refine=1,
    )
    return LaboratoryData(fit, (other.t, other.state))
