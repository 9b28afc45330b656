"""Shared fixtures of the Python package's tests (run by `make check`
through scripts/python with COLB_LIBRARY and COLB_TOOL set)."""
import os
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# set by scripts/python in the sanitizer build: memory and timing checks
# mean nothing under ASan
SANITIZED = bool(os.environ.get("COLB_SANITIZED"))


@pytest.fixture
def tool():
    """The colb tool of the same build as the library under test."""
    path = pathlib.Path(os.environ.get("COLB_TOOL", ROOT / "build" / "colb"))
    if not path.exists():
        pytest.skip(f"no colb tool at {path} (run make first)")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def instance(rng, N=12, d=4, K=6, groups=3):
    """A small clustered instance: labels, theta (N, d), and a function
    drawing a round's contexts (K, d) with everyone's rewards (N, K)."""
    labels = np.arange(N) % groups
    centers = rng.normal(size=(groups, d))
    theta = centers[labels] / np.linalg.norm(centers[labels], axis=1, keepdims=True)

    def draw():
        X = rng.normal(size=(K, d)) / np.sqrt(d)
        return X, theta @ X.T + 0.1 * rng.normal(size=(N, K))
    return labels, theta, draw
