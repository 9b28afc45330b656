"""colb: collaborative multi-agent linear bandits, from Python.

A thin layer over the C library libcolb (ctypes and numpy; docs/python.md):

    import numpy as np, colb

    pol = colb.Policy("cmlb", users=200, dim=15, horizon=1000)
    X = np.random.default_rng(0).normal(size=(25, 15)) / np.sqrt(15)
    arms = pol.choose(X)                 # one arm per user
    pol.observe(rewards_of(arms))        # their rewards; the round ends

    res = colb.simulate(policies=["oracle", "cmlb", "linucb-ind"], users=100,
                        horizon=500, repeats=5, seed=1)
    res.regret_mean[:, -1]               # the numbers of `colb run`'s summary.csv

    colb.policies()                      # every policy and the options it reads

Errors of the library are raised as subclasses of colb.Error (colb.errors)
with the library's message.
"""

from ._lib import path as library_path
from .errors import (Error, InputOutputError, Interrupted, InvalidArgument, NonFinite, NotFound,
                     NumericalError, OutOfMemory, OutOfRange, ParseError, StateError, Unsupported)
from .params import Option, options, policies, policy_names
from .policy import Policy
from .simulate import SimResult, simulate

__version__ = "0.1.0"

__all__ = [
    "Policy", "simulate", "SimResult", "policies", "policy_names", "options", "Option",
    "library_path", "Error", "InvalidArgument", "OutOfMemory", "NonFinite", "OutOfRange",
    "StateError", "InputOutputError", "ParseError", "NotFound", "NumericalError", "Unsupported",
    "Interrupted",
]
