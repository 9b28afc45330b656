"""No leaks: the resident memory of the process stays flat across 10^5
calls of the round protocol, and across many error paths, policies,
snapshots and simulations.

Tolerance: 256 KiB of growth over a loop, after a warm-up loop of the same
calls. A leak in a call leaks at least one heap block, at least 32 bytes
with glibc's malloc, so 10^5 leaking calls grow the process by megabytes:
test_the_measurement_sees_a_leak shows 10^5 leaked 24-byte blocks (about
3 MiB here), far above the tolerance, while the loops below measure 0 bytes
on this machine; 256 KiB (64 pages) leaves room for the allocator's and
numpy's caches, which do not grow with the number of calls.

Before each measured loop the heap's free memory goes back to the system
(malloc_trim): otherwise a leak is served from memory that earlier tests
freed and that stays resident, and the resident size does not grow - how
much there is depends on which tests ran before (test_the_measurement_
sees_a_leak_after_frees)."""
import ctypes
import os

import numpy as np
import pytest

import colb
from conftest import SANITIZED

pytestmark = pytest.mark.skipif(SANITIZED, reason="resident memory means nothing under ASan "
                                "(quarantine); LeakSanitizer checks the library in the C tests")

PAGE = os.sysconf("SC_PAGE_SIZE")
TOLERANCE = 256 * 1024
LIBC = ctypes.CDLL(None)
LIBC.malloc.restype, LIBC.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
LIBC.free.restype, LIBC.free.argtypes = None, [ctypes.c_void_p]
LIBC.malloc_trim.restype, LIBC.malloc_trim.argtypes = ctypes.c_int, [ctypes.c_size_t]


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def growth(loop, n):
    loop(n // 5)                                         # warm-up: caches, free lists
    LIBC.malloc_trim(0)                                  # free heap pages back to the system
    before = rss()
    loop(n)
    return rss() - before


def test_round_protocol_1e5_calls(rng):
    pol = colb.Policy("cmlb", 8, 3, horizon=1000)
    X, y = rng.normal(size=(5, 3)), np.ones(8)

    def loop(n):
        for _ in range(n // 2):                          # two calls per round
            pol.choose(X)
            pol.observe(y)
    assert growth(loop, 100_000) < TOLERANCE


def test_error_paths_and_lifetimes(rng):
    X, y = rng.normal(size=(5, 3)), np.ones(8)
    bad = X.copy()
    bad[0, 0] = np.nan
    pol = colb.Policy("linucb-ind", 8, 3)

    def errors(n):
        for _ in range(n):
            try:
                pol.choose(bad)
            except colb.NonFinite:
                pass
            try:
                colb.Policy("linucb-ind", 8, 3, lambda_=-1)
            except colb.OutOfRange:
                pass
    assert growth(errors, 20_000) < TOLERANCE

    def lifetimes(n):
        for _ in range(n):
            p = colb.Policy("cmlb", 8, 3, horizon=100)
            p.choose(X, rewards=np.ones((8, 5)))
            q = colb.Policy.from_bytes(p.to_bytes())
            q.add_users(0)
            del p, q
    assert growth(lifetimes, 3_000) < TOLERANCE

    def sims(n):
        for _ in range(n):
            colb.simulate(policies=["cmlb", "random"], users=6, clusters=2, dim=2, arms=3,
                          horizon=20, repeats=2, curve_points=5)
    assert growth(sims, 200) < TOLERANCE


def leak(n):
    for _ in range(n):
        LIBC.malloc(24)


def test_the_measurement_sees_a_leak():
    assert growth(leak, 100_000) > 4 * TOLERANCE


def test_the_measurement_sees_a_leak_after_frees():
    """Whatever earlier tests left free in the heap: here 300000 small
    blocks freed just before, enough to serve the whole leak without one new
    page (the leak then measured 128 KiB, below the tolerance)."""
    blocks = [LIBC.malloc(24) for _ in range(300_000)]
    for b in blocks:
        LIBC.free(b)
    assert growth(leak, 100_000) > 4 * TOLERANCE
