"""colb.Policy: rounds of choose/observe for every policy, the three ways
to serve users (all at once, a subset, per-user contexts), users added
online, estimates and clusters, save/load, options."""
import pickle

import numpy as np
import pytest

import colb
from conftest import instance

N, D, K = 12, 4, 6


def make(name, labels, **opts):
    return colb.Policy(name, N, D, labels=labels, horizon=200, **opts)


@pytest.mark.parametrize("name", colb.policy_names())
def test_round_trip_every_policy(name, rng):
    labels, _, draw = instance(rng, N, D, K)
    pol = make(name, labels)
    assert pol.name == name and pol.users == N and pol.dim == D and pol.rounds == 0
    for t in range(30):
        X, R = draw()
        arms = pol.choose(X)
        assert arms.shape == (N,) and arms.dtype == np.intp
        assert ((arms >= 0) & (arms < K)).all()
        pol.observe(np.ascontiguousarray(R[np.arange(N), arms]))
    assert pol.rounds == 30
    try:
        th = pol.theta(0)
        assert th.shape == (D,) and np.isfinite(th).all()
    except colb.Unsupported as e:
        assert "keeps no per-user estimate" in str(e)
    assert isinstance(pol.info, str)
    assert repr(pol).startswith(f"<colb.Policy '{name}'")


def test_choices_leave_no_state(rng):
    """The recommended policy says its choices leave no state: two copies
    that serve different users from the same contexts, with no reward,
    end the round byte for byte equal. LinUCB-Ind says so by upper
    confidence bounds, not by Thompson sampling (its draws); the random
    policy's draws neither."""
    labels, _, draw = instance(rng, N, D, K)
    pol = make("recommended", labels)
    assert pol.choices_leave_no_state
    assert make("linucb-ind", labels).choices_leave_no_state
    assert not make("linucb-ind", labels, sampling="ts").choices_leave_no_state
    assert not make("random", labels).choices_leave_no_state
    for t in range(20):
        X, R = draw()
        arms = pol.choose(X)
        pol.observe(np.ascontiguousarray(R[np.arange(N), arms]))
    a, b = colb.Policy.from_bytes(pol.to_bytes()), colb.Policy.from_bytes(pol.to_bytes())
    X, _ = draw()
    a.choose(X, users=[0])
    a.end_round()
    b.choose(X, users=[3, 5])
    b.end_round()
    assert a.to_bytes() == b.to_bytes() and a.rounds == pol.rounds + 1


def test_observations_reach_the_learners(rng):
    labels, theta, draw = instance(rng, N, D, K)
    pol = make("linucb-ind", labels)
    regret = []
    for t in range(300):
        X, R = draw()
        arms = pol.choose(X)
        pol.observe(np.ascontiguousarray(R[np.arange(N), arms]))
        mean = theta @ X.T
        regret.append((mean.max(axis=1) - mean[np.arange(N), arms]).mean())
    # it learns: regret falls and the estimates point where theta does
    assert np.mean(regret[-50:]) < 0.5 * np.mean(regret[:50])
    est = pol.theta()
    cos = (est * theta).sum(axis=1) / np.linalg.norm(est, axis=1)
    assert est.shape == (N, D) and cos.min() > 0.9


def test_rewards_table_equals_choose_then_observe(rng):
    labels, _, draw = instance(rng, N, D, K)
    a, b = make("cmlb", labels), make("cmlb", labels)
    for t in range(60):
        X, R = draw()
        arms_a = a.choose(X)
        a.observe(np.ascontiguousarray(R[np.arange(N), arms_a]))
        arms_b = b.choose(X, rewards=R)
        assert (arms_a == arms_b).all()
    assert a.rounds == b.rounds == 60
    assert (a.theta() == b.theta()).all() and a.info == b.info


def test_per_user_contexts_are_one_round_per_user(rng):
    labels, _, draw = instance(rng, N, D, K)
    a, b = make("club", labels), make("club", labels)
    for t in range(10):
        rounds = [draw() for u in range(N)]
        X3 = np.stack([x for x, _ in rounds])            # (N, K, d)
        R = np.stack([r[u] for u, (_, r) in enumerate(rounds)])
        arms = a.choose(X3, rewards=R)
        for u in range(N):                               # by hand: one user per round
            (arm,) = b.choose(X3[u], users=[u])
            b.observe([R[u, arm]])
            assert arm == arms[u]
    assert a.rounds == b.rounds == 10 * N
    assert (a.theta() == b.theta()).all()
    with pytest.raises(colb.InvalidArgument, match="pass rewards="):
        a.choose(X3)


def test_a_subset_of_users(rng):
    labels, _, draw = instance(rng, N, D, K)
    pol = make("linucb-ind", labels)
    X, R = draw()
    arms = pol.choose(X, users=[3, 1])
    assert arms.shape == (2,)
    pol.observe([R[3, arms[0]], R[1, arms[1]]])
    assert np.any(pol.theta(3) != 0) and np.any(pol.theta(1) != 0)
    assert (pol.theta(0) == 0).all()                     # not served: no data
    with pytest.raises(colb.InvalidArgument, match="listed twice"):
        pol.choose(X, users=[2, 2])
    with pytest.raises(colb.OutOfRange):
        pol.choose(X, users=[N])
    # a bad reward in a subset applies none of them
    pol.choose(X, users=[4, 5])
    with pytest.raises(colb.NonFinite):
        pol.observe([1.0, np.nan])
    pol.observe([1.0, 2.0])
    assert np.any(pol.theta(4) != 0)


def test_rewards_tables_for_a_subset_and_refused(rng):
    labels, _, draw = instance(rng, N, D, K)
    for name in ("club", "cmlb"):                       # sequential and batch
        pol = make(name, labels)
        X, R = draw()
        arms = pol.choose(X, users=[5, 2], rewards=R[[5, 2]])
        assert arms.shape == (2,) and pol.rounds == 1
        bad = R.copy()
        bad[3, :] = np.nan
        with pytest.raises(colb.NonFinite, match="user 3"):
            pol.choose(X, rewards=bad)
        assert pol.rounds == 1                          # refused before the round
        pol.choose(X, rewards=R)                        # and the policy goes on


@pytest.mark.parametrize("name", ["club", "cmlb", "linucb-ind"])
def test_refused_reward_tables_change_nothing(name, rng):
    """choose(..., rewards=) checks the whole batch (every reward of the
    table, every per-user context) before any of it is applied: a table
    refused at its fourth user leaves the policy as it was, byte for byte,
    with no round counted - a sequential policy (CLUB) kept the first three
    users' updates, and per-user contexts the first three rounds, before."""
    labels, _, draw = instance(rng, N, D, K)
    pol = make(name, labels)
    X, R = draw()
    pol.choose(X, rewards=R)
    X3 = np.ascontiguousarray(np.stack([draw()[0] for _ in range(N)]))
    before = pol.to_bytes()
    cases = []
    for entry, cls, match in [(np.nan, colb.NonFinite, "reward of user 3, arm 1 is nan"),
                              (-np.inf, colb.NonFinite, "reward of user 3, arm 1 is -inf"),
                              (2e9, colb.OutOfRange, r"reward of user 3, arm 1 is 2000000000.0, "
                                                     r"beyond \+-1e\+09")]:
        bad = R.copy()
        bad[3, 1] = entry       # one arm only: which one user 3 is served is not known first
        cases += [(X, bad, cls, match), (X3, bad, cls, match)]
    for entry, cls, match in [(np.nan, colb.NonFinite, "context of user 3, arm 2, entry 1 is nan"),
                              (2e6, colb.OutOfRange, "context of user 3, arm 2, entry 1 is "
                                                     r"2000000.0, beyond \+-1e\+06")]:
        bad = X3.copy()
        bad[3, 2, 1] = entry
        cases.append((bad, R, cls, match))
    for contexts, rewards, cls, match in cases:
        with pytest.raises(cls, match=match):
            pol.choose(contexts, rewards=rewards)
        assert pol.rounds == 1
        assert pol.to_bytes() == before
    # a subset names its users by their indices
    bad = R[[7, 2]].copy()
    bad[1, 0] = np.nan
    with pytest.raises(colb.NonFinite, match="reward of user 2, arm 0"):
        pol.choose(X, users=[7, 2], rewards=bad)
    assert pol.to_bytes() == before
    assert pol.choose(X3, rewards=R).shape == (N,) and pol.rounds == 1 + N


class FailingLib:
    """The library with one function made to return COLB_ENUMERIC, as a
    numerical failure in an update would (inputs within colb/limits.h
    cause none)."""
    def __init__(self, lib, name):
        self._lib, self._name = lib, name

    def __getattr__(self, name):
        if name == self._name:
            return lambda *args: colb._lib.CODE["COLB_ENUMERIC"]
        return getattr(self._lib, name)


@pytest.mark.parametrize("call, users", [("colb_policy_observe_all", None),
                                         ("colb_policy_observe", [4, 1])])
def test_numerical_failure_in_observe_closes_the_round(rng, monkeypatch, call, users):
    """A NumericalError from observe ends the round (the library fences the
    policy, whose round can only be closed): later calls meet the fenced
    policy's NumericalError, not a StateError about a round left open."""
    labels, _, draw = instance(rng, N, D, K)
    pol = make("cmlb", labels)
    X, R = draw()
    arms = pol.choose(X, users=users)
    with monkeypatch.context() as m:
        m.setattr(colb._lib, "lib", FailingLib(colb._lib.lib, call))
        with pytest.raises(colb.NumericalError):
            pol.observe(np.zeros(arms.size))
    assert pol.rounds == 1
    pol.choose(X)                                       # no round left open


def test_round_protocol_errors(rng):
    labels, _, draw = instance(rng, N, D, K)
    pol = make("cmlb", labels)
    X, R = draw()
    with pytest.raises(colb.StateError, match="no open round"):
        pol.observe(np.zeros(N))
    with pytest.raises(colb.StateError):
        pol.end_round()
    pol.choose(X)
    with pytest.raises(colb.StateError, match="still open"):
        pol.choose(X)
    with pytest.raises(colb.StateError, match="cannot save during round"):
        pol.to_bytes()
    before = pol.theta()
    pol.end_round()                                      # no feedback this round
    assert pol.rounds == 1 and (pol.theta() == before).all()


def test_users_added_online(rng):
    labels, _, draw = instance(rng, N, D, K)
    pol = make("linucb-ind", labels)
    X, R = draw()
    pol.choose(X, rewards=R)
    assert pol.add_users(3) == N + 3 and pol.users == N + 3
    arms = pol.choose(X)
    assert arms.shape == (N + 3,)
    pol.observe(np.ones(N + 3))
    with pytest.raises(colb.Unsupported, match="cannot take users online"):
        make("club", labels).add_users(1)
    oracle = make("oracle", labels)
    with pytest.raises(colb.InvalidArgument, match="true"):
        oracle.add_users(2)
    assert oracle.add_users(2, labels=[0, 2]) == N + 2


def test_clusters(rng):
    labels, _, draw = instance(rng, N, D, K)
    oracle = make("oracle", labels)
    assert (oracle.clusters() == labels).all()
    cmlb = make("cmlb", labels)
    for t in range(40):
        X, R = draw()
        cmlb.choose(X, rewards=R)
    got = cmlb.clusters()
    assert got.shape == (N,) and got.min() >= 0
    with pytest.raises(colb.Unsupported, match="does not cluster users"):
        make("linucb-ind", labels).clusters()
    with pytest.raises(colb.OutOfRange):
        cmlb.theta(N)


def test_save_load_continue_bit_for_bit(rng, tmp_path):
    labels, _, draw = instance(rng, N, D, K)
    pol = make("cmlb", labels, seed=3)
    for t in range(40):
        X, R = draw()
        pol.choose(X, rewards=R)
    path = tmp_path / "cmlb.colb"
    pol.save(path)
    copies = [colb.Policy.load(path), colb.Policy.from_bytes(pol.to_bytes()),
              pickle.loads(pickle.dumps(pol))]
    for c in copies:
        assert (c.name, c.users, c.dim, c.rounds, c.info, c.options) == \
            (pol.name, pol.users, pol.dim, pol.rounds, pol.info, pol.options)
    assert pol.options["seed"] == 3 and pol.options["horizon"] == 200
    assert pol.options["lambda"] == 1.0 and pol.options["width"] == "oful"
    for t in range(60):
        X, R = draw()
        arms = pol.choose(X, rewards=R)
        for c in copies:
            assert (c.choose(X, rewards=R) == arms).all()
    for c in copies:
        assert (c.theta() == pol.theta()).all() and (c.clusters() == pol.clusters()).all()
    (tmp_path / "junk.colb").write_bytes(b"not a snapshot" * 10)
    with pytest.raises(colb.ParseError):
        colb.Policy.load(tmp_path / "junk.colb")
    with pytest.raises(colb.InputOutputError):
        colb.Policy.load(tmp_path / "missing.colb")
    with pytest.raises(colb.ParseError):
        colb.Policy.from_bytes(pol.to_bytes()[:-9])
    with pytest.raises(colb.OutOfMemory):
        colb.Policy.load(path, memory_budget=1000)


def test_set_max_memory(rng, tmp_path):
    """The budget bounds what the policy allocates from now on; a loaded
    policy (a snapshot does not store it) gets it back here."""
    pol = colb.Policy("linucb-ind", N, D, max_memory="64M")
    with pytest.raises(colb.OutOfMemory):
        pol.add_users(10 ** 7)                 # gigabytes at d = 4: over 64M
    assert pol.users == N
    pol.set_max_memory(0)                      # the default: 80 % of what is available
    assert pol.add_users(3) == N + 3
    path = tmp_path / "p.colb"
    pol.save(path)
    back = colb.Policy.load(path)
    back.set_max_memory("1M")
    with pytest.raises(colb.OutOfMemory):
        back.add_users(10 ** 5)
    back.set_max_memory(2 ** 30)
    assert back.add_users(10 ** 5) == N + 3 + 10 ** 5
    with pytest.raises(colb.OutOfRange):
        back.set_max_memory(2 ** 51)           # more than 1024T
    with pytest.raises(colb.InvalidArgument, match="not a byte count"):
        back.set_max_memory("lots")
    with pytest.raises(colb.InvalidArgument):
        back.set_max_memory(True)
    back.close()
    with pytest.raises(colb.StateError):
        back.set_max_memory(0)


def test_options(rng):
    labels, _, draw = instance(rng, N, D, K)
    X, R = draw()
    a = colb.Policy("linucb-ind", N, D, lambda_=0.5, width="fixed", alpha=0.3)
    b = colb.Policy("linucb-ind", N, D, **{"lambda": 0.5, "width": "fixed", "alpha": 0.3})
    c = colb.Policy("linucb-ind", N, D)
    for p in (a, b, c):
        p.choose(X, rewards=R)
    assert (a.theta() == b.theta()).all() and (a.theta() != c.theta()).any()
    with pytest.raises(colb.NotFound, match="did you mean 'lambda'"):
        colb.Policy("linucb-ind", N, D, lamda=1)
    # Policy's own parameter too, as colb run suggests any of its options
    with pytest.raises(colb.NotFound, match="did you mean 'labels'"):
        colb.Policy("oracle", N, D, labls=labels)
    with pytest.raises(colb.OutOfRange, match="lambda"):
        colb.Policy("linucb-ind", N, D, lambda_=0)
    with pytest.raises(colb.InvalidArgument, match="not one of oful|fixed"):
        colb.Policy("linucb-ind", N, D, width="wide")
    with pytest.raises(colb.NonFinite):
        colb.Policy("linucb-ind", N, D, alpha=float("nan"))
    with pytest.raises(colb.InvalidArgument):
        colb.Policy("linucb-ind", N, D, alpha=[1])
    with pytest.raises(colb.NotFound, match="unknown policy 'nope'.*known: cohort, linucb-ind"):
        colb.Policy("nope", N, D)
    with pytest.raises(colb.OutOfRange, match="users"):
        colb.Policy("linucb-ind", 0, D)
    with pytest.raises(colb.InvalidArgument, match="oracle"):
        colb.Policy("oracle", N, D)                      # needs labels
    r1, r2, r3 = (colb.Policy("random", N, D, seed=s) for s in (1, 1, 2))
    arms = [p.choose(X) for p in (r1, r2, r3)]
    assert (arms[0] == arms[1]).all() and (arms[0] != arms[2]).any()


def test_close(rng):
    pol = colb.Policy("linucb-ind", N, D)
    with pol:
        pass
    assert "closed" in repr(pol)
    with pytest.raises(colb.StateError, match="closed"):
        pol.choose(np.zeros((K, D)))
    pol.close()                                          # twice is harmless


def test_exception_between_add_users_and_buffers_is_harmless():
    # An exception (Ctrl-C) after the library added users and before the
    # binding's buffers followed left them a size short: the next choose had
    # the library write past them. The binding now follows the library's N.
    from colb import _lib
    p = colb.Policy("linucb-ind", 2, 3)
    assert _lib.lib.colb_policy_add_users(p._h, 1000, None) == 0  # as if interrupted after it
    X = np.eye(3)
    arms = p.choose(X)
    assert arms.shape == (1002,)
    p.observe(np.zeros(1002))
    assert p.theta().shape == (1002, 3)


def test_end_round_ends_a_round_the_binding_missed():
    # Ctrl-C between the library's begin_round and the binding's flag left
    # a round open that end_round() refused to close, for good.
    from colb import _lib
    p = colb.Policy("linucb-ind", 2, 3)
    X = np.eye(3)
    assert _lib.lib.colb_policy_begin_round(p._h, X.ctypes.data, 3) == 0
    p.end_round()  # the library's round, ended
    assert p.choose(X).shape == (2,)
    p.end_round()
    with pytest.raises(colb.StateError, match="no open round"):
        p.end_round()


def test_masked_values_inside_lists_and_huge_ints_are_refused():
    p = colb.Policy("linucb-ind", 2, 3)
    row = np.ma.masked_array([0.1, 0.2, 0.3], mask=[0, 1, 0])
    with pytest.raises(colb.InvalidArgument, match="masked"):
        p.choose([row, row])
    with pytest.raises(colb.InvalidArgument, match="masked"):
        p.choose(np.eye(3), users=[np.ma.masked_array(1, mask=True)])
    with pytest.raises(colb.InvalidArgument, match="not an array of numbers"):
        p.choose([[10 ** 400] * 3])


def test_an_option_given_twice_is_refused():
    with pytest.raises(colb.InvalidArgument, match="given twice"):
        colb.Policy("linucb-ind", 3, 2, lambda_=0.5, **{"lambda": 0.7})
    with pytest.raises(colb.InvalidArgument, match="given twice"):
        colb.Policy("cmlb", 3, 2, cmlb_alpha=0.3, **{"cmlb-alpha": 0.4})
