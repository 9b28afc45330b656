"""The overhead of the Python binding: colb.Policy.choose against the C API
calls it makes (bench/bench_binding.c), for N = 200 users, K = 25 arms,
d = 15, through the same call sequence on the same contexts and rewards.

Three measures, because the machine is shared:
  * wall-clock and the thread's CPU time: the C benchmark and this one run
    in turns, ROUNDS rounds per run after a warm-up, and each side's best
    run counts (CPU time leaves out the time other processes take);
  * --callgrind: instructions per round counted by valgrind (the load of
    the machine does not change them): each side runs R1 and R2 rounds and
    the difference over R2 - R1 rounds is the cost of one round, start-up
    and warm-up cancelling out.
The C benchmark opens the library this process loads (--lib), so that
both run the very same code; `make bench-python` runs this on build-native/.

    PYTHONPATH=python COLB_LIBRARY=build-native/libcolb.so python3 \\
        bench/bench_binding.py [--callgrind] build-native/bench/bench_binding [POLICY ...]
"""
import ctypes
import os
import re
import subprocess
import sys
import time

import numpy as np

import colb
from colb import _lib

N, K, D, POOL, WARMUP = 200, 25, 15, 16, 50
ROUNDS, REPS, TURNS = 200, 7, 3
R1, R2 = 20, 60                      # rounds of the two callgrind runs


def data():
    """The contexts and rewards of bench_binding.c, computed the same way."""
    i = np.arange(POOL * K * D, dtype=np.float64)
    X = (np.sin(1.0 + i) / np.sqrt(D)).reshape(POOL, K, D)
    Y = 0.5 * np.cos(np.arange(POOL * N, dtype=np.float64)).reshape(POOL, N)
    return [np.ascontiguousarray(x) for x in X], [np.ascontiguousarray(y) for y in Y]


def single_blas():
    try:  # as bench_binding.c: BLAS single-threaded
        _lib.lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
        _lib.lib.openblas_set_num_threads(1)
    except AttributeError:
        pass


def python_side(name, X, Y, clock, rounds=ROUNDS, reps=REPS):
    """Best per-call times (us) of choose and of a whole round."""
    pol = colb.Policy(name, N, D, horizon=100000, labels=np.arange(N) % 4)
    best_choose = best_round = float("inf")
    t = 0
    for rep in range(reps + 1):                           # rep 0: warm-up
        n = rounds if rep else WARMUP
        choose = 0.0
        t0 = clock()
        for _ in range(n):
            x = X[t % POOL]
            c0 = clock()
            arms = pol.choose(x)
            choose += clock() - c0
            pol.observe(Y[t % POOL])
            t += 1
        total = clock() - t0
        if rep:
            best_choose = min(best_choose, choose / n)
            best_round = min(best_round, total / n)
    assert arms.shape == (N,)
    return 1e6 * best_choose, 1e6 * best_round


def c_side(binary, name, cpu):
    """The C benchmark on the library this process loaded (dlopen'ed)."""
    out = subprocess.run([binary] + (["--cpu"] if cpu else []) + ["--lib", colb.library_path, name,
                                                                   str(ROUNDS), str(REPS)],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"choose_us=([0-9.]+) round_us=([0-9.]+)", out)
    return float(m.group(1)), float(m.group(2))


def timed(binary, names, X, Y):
    print(f"bench_binding.py: N={N} K={K} d={D}, library {colb.library_path}")
    print(f"best of {TURNS} turns x {REPS} runs of {ROUNDS} rounds, us per call")
    print(f"{'policy':12s} {'clock':5s} {'C choose':>9s} {'py choose':>9s} {'overhead':>9s}   "
          f"{'C round':>9s} {'py round':>9s} {'overhead':>9s}")
    for name in names:
        for label, clock, cpu in (("wall", time.perf_counter, False),
                                  ("cpu", time.thread_time, True)):
            c = p = (float("inf"), float("inf"))
            for _ in range(TURNS):
                c = tuple(map(min, c, c_side(binary, name, cpu)))
                p = tuple(map(min, p, python_side(name, X, Y, clock)))
            print(f"{name:12s} {label:5s} {c[0]:9.2f} {p[0]:9.2f} {100 * (p[0] / c[0] - 1):8.1f}%   "
                  f"{c[1]:9.2f} {p[1]:9.2f} {100 * (p[1] / c[1] - 1):8.1f}%")


def instructions(cmd):
    """Instructions valgrind's callgrind counts for cmd."""
    err = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1")).stderr
    return int(re.search(r"Collected : (\d+)", err).group(1))


def counted(binary, names):
    print(f"bench_binding.py --callgrind: instructions per round (choose + observe), "
          f"N={N} K={K} d={D}, ({R2} - {R1} rounds) difference")
    print(f"{'policy':12s} {'C':>12s} {'python':>12s} {'overhead':>9s} {'per call':>9s}")
    for name in names:
        c = [instructions([binary, "--lib", colb.library_path, name, str(r), "1"])
             for r in (R1, R2)]
        p = [instructions([sys.executable, __file__, "--run", name, str(r)]) for r in (R1, R2)]
        ci, pi = (c[1] - c[0]) / (R2 - R1), (p[1] - p[0]) / (R2 - R1)
        print(f"{name:12s} {ci:12.0f} {pi:12.0f} {100 * (pi / ci - 1):8.2f}% "
              f"{(pi - ci) / 2:9.0f}")


def main():
    args = sys.argv[1:]
    single_blas()
    X, Y = data()
    if args and args[0] == "--run":                       # a child under callgrind
        python_side(args[1], X, Y, time.perf_counter, rounds=int(args[2]), reps=1)
        return
    grind = bool(args) and args[0] == "--callgrind"
    args = args[1:] if grind else args
    binary = args[0] if args else "build-native/bench/bench_binding"
    names = args[1:] or ["linucb-ind", "cmlb", "club"]
    if grind:
        counted(binary, names)
    else:
        timed(binary, names, X, Y)


if __name__ == "__main__":
    main()
