"""Compare four colb policies on your own instance, made with numpy.

200 users in 4 groups with alike tastes; every round each user is shown the
same 25 items (15 features each), one is chosen for them, and they give a
noisy reward for it. Every policy sees the same items and the same noise.

    PYTHONPATH=python python3 examples/compare.py [ROUNDS]
"""
import sys

import numpy as np

import colb

N, d, K = 200, 15, 25
T = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
rng = np.random.default_rng(7)
groups = rng.integers(0, 4, size=N)                         # each user's group
centers = rng.normal(size=(4, d))
theta = centers[groups] / np.linalg.norm(centers[groups], axis=1, keepdims=True)

policies = {name: colb.Policy(name, N, d, horizon=T) for name in ("recommended", "linucb-ind", "cmlb", "club")}
regret = dict.fromkeys(policies, 0.0)
users = np.arange(N)
for t in range(T):
    X = rng.normal(size=(K, d)) / np.sqrt(d)                # this round's items
    mean = theta @ X.T                                      # (N, K) expected rewards
    reward = mean + 0.1 * rng.normal(size=(N, K))
    for name, policy in policies.items():
        arms = policy.choose(X)
        policy.observe(reward[users, arms])
        regret[name] += (mean.max(axis=1) - mean[users, arms]).mean()

for name, policy in policies.items():
    print(f"{name:11s} regret per user after {T} rounds: {regret[name]:7.2f}   {policy.info}")
