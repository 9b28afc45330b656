"""colb.policies() and colb.options(): the library's listing of keys, as
Python values, and the example script of a researcher's comparison."""
import os
import re
import subprocess
import sys

import colb
from conftest import ROOT


def test_every_policy_is_listed_with_the_options_it_reads():
    listing = colb.policies()
    assert list(listing) == colb.policy_names() and "cmlb" in listing
    lin = listing["linucb-ind"]
    assert "lambda" in lin and "width" in lin and "club_alpha" not in lin
    assert "users" not in lin and "dim" not in lin       # positional arguments
    assert set(listing["random"]) == {"seed", "max_memory"}
    assert "club_graph" in listing["club"] and "width" in listing["club"]   # the shared width
    assert "diversify" in listing["oracle"] and "diversify" not in listing["oracle-batch"]
    assert "sclub_alpha" in listing["sclub"] and "locb_seeds" in listing["locb"]
    lam = lin["lambda"]
    assert (lam.key, lam.type, lam.default, lam.min, lam.max) == ("lambda", "real", 1.0, 1e-6, 1e6)
    w = lin["width"]
    assert (w.type, w.default, w.choices) == ("choice", "oful", ("oful", "fixed"))
    assert listing["cmlb"]["cmlb_warm_start"].default is True
    for options in listing.values():
        for o in options.values():
            assert o.help and o.name == o.key.replace("-", "_")


def test_options_by_kind():
    kinds = colb.options()
    run = {o.name: o for o in kinds["run"]}
    env = {o.name: o for o in kinds["environment"]}
    pol = {o.name: o for o in kinds["policy"]}
    assert run["horizon"].default == 1000 and run["repeats"].default == 30
    assert env["env"].choices == ("clustered", "personalized") and env["users"].default == 100
    assert pol["users"].default is None                   # must be given
    assert pol["seed"].max == 2 ** 64 - 1 and run["max_memory"].type == "bytes"


def test_simulate_defaults_listed():
    """colb.options(simulate=True) gives the defaults simulate runs with
    (colb run's: a fixed width 0.25, delta 0.4), colb.options() the
    library's, which colb.Policy uses."""
    res = colb.simulate(policies=["random"], horizon=2, repeats=1)
    listed = colb.options(simulate=True)
    for kind in ("run", "environment", "policy"):
        for o in listed[kind]:
            if o.default is None or o.key in ("policies", "horizon", "repeats", "learner-noise"):  # given; noise
                continue
            got = colb.params.value(o.type, res.settings[o.key])
            assert got == o.default, (o.key, got, o.default)
    pol = {o.name: o for o in listed["policy"]}
    assert (pol["width"].default, pol["alpha"].default, pol["delta"].default) == ("fixed", 0.25, 0.4)
    lib = {o.name: o for o in colb.options()["policy"]}
    assert (lib["width"].default, lib["alpha"].default, lib["delta"].default) == ("oful", 1.0, 0.1)


def test_compare_example_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "compare.py"), "60"],
                         env=env, check=True, capture_output=True, text=True, timeout=120).stdout
    found = re.findall(r"^(\S+) +regret per user after 60 rounds: +([0-9.]+)", out, re.M)
    assert [name for name, _ in found] == ["recommended", "linucb-ind", "cmlb", "club"]
    assert all(0 < float(r) < 60 * 2.5 for _, r in found)   # regret per round is below 2
