"""Hypothesis profiles: no deadline for torch code; derandomized on CI so it never flakes."""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def one_thread():
    """One intra-op thread: on a shared 2-core machine two threads made tiny runs ~6x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
