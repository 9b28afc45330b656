"""Bad inputs raise clear exceptions (a colb.Error subclass that is also the
matching built-in, with a message naming the problem), never a crash,
and leave the policy usable."""
import numpy as np
import os

import pytest

import colb

N, D, K = 5, 3, 4


@pytest.fixture
def pol():
    return colb.Policy("linucb-ind", N, D)


@pytest.fixture
def X(rng):
    return rng.normal(size=(K, D))


def still_works(pol, X):
    before = pol.rounds
    arms = pol.choose(X)
    pol.observe(np.ones(N))
    assert arms.shape == (N,) and pol.rounds == before + 1


@pytest.mark.parametrize("bad, match", [
    (lambda X: X.astype(np.float32), "dtype float32, expected float64"),
    (lambda X: X.astype(np.int64), "dtype int64, expected float64"),
    (lambda X: np.asfortranarray(np.ones((K, D))), "not C-contiguous"),
    (lambda X: np.ones((K, 2 * D))[:, ::2], "not C-contiguous"),
    (lambda X: np.ones((D, K)).T, "not C-contiguous"),
    (lambda X: np.ones((K, D + 1)), "last dimension d = 3"),
    (lambda X: np.ones(D), "1 dimensions"),
    (lambda X: np.ones((1, 1, K, D)), "4 dimensions"),
    (lambda X: np.ones((0, D)), "K = 0"),
    (lambda X: [["a", "b", "c"]], "not an array of numbers"),
])
def test_bad_contexts(pol, X, bad, match):
    with pytest.raises(colb.InvalidArgument, match=match) as e:
        pol.choose(bad(X))
    assert isinstance(e.value, ValueError) and isinstance(e.value, colb.Error)
    still_works(pol, X)


def test_non_finite_and_huge_contexts(pol, X):
    for v, cls, match in [(np.nan, colb.NonFinite, "context 1, entry 2 is nan \\(NaN or Inf\\)"),
                          (-np.inf, colb.NonFinite, "context 1, entry 2 is -inf \\(NaN or Inf\\)"),
                          (2e6, colb.OutOfRange, "context 1, entry 2 is 2e\\+06")]:
        Y = X.copy()
        Y[1, 2] = v
        with pytest.raises(cls, match=match) as e:
            pol.choose(Y)
        assert e.value.status_name == cls.status_name and isinstance(e.value.status, int)
        still_works(pol, X)


def test_lists_and_read_only_arrays(pol, X):
    arms = pol.choose(X.tolist())
    pol.observe([0.5] * N)
    assert arms.shape == (N,)
    X.flags.writeable = False
    y = np.ones(N)
    y.flags.writeable = False
    assert pol.choose(X).shape == (N,)
    pol.observe(y)
    assert pol.rounds == 2


@pytest.mark.parametrize("bad, cls, match", [
    (np.ones(N - 1), colb.InvalidArgument, "4 values, expected 5"),
    (np.ones(N, dtype=np.float32), colb.InvalidArgument, "dtype float32"),
    (np.ones(2 * N)[::2], colb.InvalidArgument, "not C-contiguous"),
    (np.ones((N, 1)), colb.InvalidArgument, "2 dimensions"),
    (np.array([1, 1, np.nan, 1, 1.0]), colb.NonFinite, "reward of user 2 is nan"),
    (np.array([1, 1, 1, 1, 2e9]), colb.OutOfRange, "reward of user 4 is 2e\\+09"),
])
def test_bad_rewards_leave_the_round_open(pol, X, bad, cls, match):
    pol.choose(X)
    with pytest.raises(cls, match=match):
        pol.observe(bad)
    pol.observe(np.ones(N))                              # the round was still open
    assert pol.rounds == 1
    still_works(pol, X)


def test_bad_users_and_tables(pol, X):
    with pytest.raises(colb.InvalidArgument, match="integers"):
        pol.choose(X, users=[0.5])
    with pytest.raises(colb.InvalidArgument, match="rewards: shape"):
        pol.choose(X, rewards=np.ones((N, K + 1)))
    with pytest.raises(colb.InvalidArgument, match="expected \\(5, K, d\\)"):
        pol.choose(np.ones((N + 1, K, D)), rewards=np.ones((N + 1, K)))
    with pytest.raises(colb.InvalidArgument, match="labels: 3 entries, expected 5"):
        colb.Policy("oracle", N, D, labels=[0, 1, 0])
    with pytest.raises(colb.OutOfRange, match="labels"):
        colb.Policy("oracle", N, D, labels=[0, 1, 0, 1, -1])
    with pytest.raises(colb.OutOfRange, match="out of range"):
        pol.theta(-1)
    with pytest.raises(colb.OutOfRange):
        pol.add_users(-1)
    still_works(pol, X)


@pytest.mark.parametrize("n", [3.7, 3.0, "2", b"2", np.float64(2)])
def test_counts_must_be_integers(pol, X, n):
    # never truncated (3.7 as 3) nor parsed ('2')
    with pytest.raises(TypeError, match="add_users: n: expected an integer"):
        pol.add_users(n)
    with pytest.raises(TypeError, match="theta: user: expected an integer"):
        pol.theta(n)
    assert pol.users == N
    still_works(pol, X)


@pytest.mark.parametrize("n", [-1, 2 ** 64, 2 ** 64 + 3, 2 ** 70])
def test_counts_never_wrap_around(pol, X, n):
    # a C size_t would take 2^64 + 3 as 3 and 2^70 as 0
    with pytest.raises(colb.OutOfRange, match=f"add_users: n: {n} is out of range \\[0, 2\\*\\*64\\)"):
        pol.add_users(n)
    assert pol.users == N
    with pytest.raises(colb.OutOfRange):
        pol.theta(n)
    still_works(pol, X)


def test_counts_taken_whole(pol, X):
    assert pol.add_users(np.int64(2)) == N + 2          # numpy integers are integers
    assert pol.add_users(0) == N + 2
    with pytest.raises(colb.OutOfRange, match="too many"):
        pol.add_users(2 ** 64 - 1)                       # a size_t, refused by the library
    data = pol.to_bytes()
    for budget, cls in [(0, colb.OutOfRange), (-1, colb.OutOfRange), (2 ** 64, colb.OutOfRange),
                        (1.5e9, TypeError), ("1G", TypeError)]:
        with pytest.raises(cls, match="memory_budget"):
            colb.Policy.from_bytes(data, memory_budget=budget)
    assert colb.Policy.from_bytes(data, memory_budget=2 ** 30).users == N + 2
    for key, value, cls in [("club_burn_in", 2 ** 64 + 5, colb.OutOfRange),
                            ("club_burn_in", -1, colb.OutOfRange),
                            ("club_burn_in", 0, colb.OutOfRange),
                            ("club_tune_repeats", 2.5, TypeError)]:
        with pytest.raises(cls, match=key):
            colb.simulate(policies=["club"], users=4, clusters=2, dim=2, arms=3, horizon=5,
                          repeats=1, club_tune=True, **{key: value})


def test_error_classes():
    for cls, builtin in [(colb.InvalidArgument, ValueError), (colb.OutOfMemory, MemoryError),
                         (colb.NonFinite, ValueError), (colb.OutOfRange, ValueError),
                         (colb.StateError, RuntimeError), (colb.InputOutputError, OSError),
                         (colb.ParseError, ValueError), (colb.NotFound, LookupError),
                         (colb.NumericalError, ArithmeticError),
                         (colb.Unsupported, NotImplementedError), (colb.Interrupted, RuntimeError)]:
        assert issubclass(cls, colb.Error) and issubclass(cls, builtin)
        assert cls.status_name.startswith("COLB_E")
        e = cls("why", 1)
        assert str(e) == "why" and e.status == 1
        # raised by the binding's own checks: the class's code, as docs/python.md says
        assert cls("why").status == colb._lib.CODE[cls.status_name]


def test_binding_errors_carry_their_status(pol, X):
    with pytest.raises(colb.InvalidArgument) as e:
        pol.choose(X.astype(np.float32))
    assert e.value.status == colb._lib.CODE["COLB_EINVAL"]


def test_subset_rewards_checked_before_any_is_applied(rng):
    """observe() after choose(users=...) refuses a reward beyond 1e9 before
    applying any of the batch, as it does a NaN, so that the call can be
    retried; choose(..., rewards=) likewise applies none of the batch."""
    p = colb.Policy("linucb-ind", 3, 2)
    p.choose(np.eye(2), users=[0, 1])
    with pytest.raises(colb.OutOfRange, match="beyond"):
        p.observe([0.5, 2e9])
    p.observe([0.5, 0.5])  # retried: nothing was applied
    q = colb.Policy("linucb-ind", 3, 2)
    with pytest.raises(colb.OutOfRange):
        q.choose(np.eye(2), users=[0, 1], rewards=[[1.0, 1.0], [2e9, 2e9]])
    assert np.all(q.theta(0) == 0.0)


def test_misaligned_arrays_refused():
    """A float64 view at a byte offset is C-contiguous but not aligned:
    refused (the library reads doubles at aligned addresses), not passed."""
    p = colb.Policy("linucb-ind", 3, 2)
    buf = np.zeros(4 * 8 + 1, np.uint8)
    X = np.frombuffer(buf.data, np.float64, count=4, offset=1).reshape(2, 2)
    assert X.flags.c_contiguous and not X.flags.aligned
    with pytest.raises(colb.InvalidArgument, match="aligned"):
        p.choose(X)
    p.choose(np.eye(2))
    r = np.frombuffer(buf.data, np.float64, count=3, offset=1)
    with pytest.raises(colb.InvalidArgument, match="aligned"):
        p.observe(r)
    p.observe(np.zeros(3))


@pytest.mark.parametrize("call", [
    lambda tmp: colb.simulate(policies=["random"], users=4, clusters=2, dim=2, arms=3, horizon=5,
                              repeats=1).to_csv(str(tmp / "a\0b")),
    lambda tmp: colb.Policy("linucb-ind\0junk", 3, 2),
    lambda tmp: colb.Policy("linucb-ind", 3, 2, width="fixed\0junk"),
    lambda tmp: colb.Policy("linucb-ind", 3, 2).save(str(tmp / "a\0b")),
    lambda tmp: colb.Policy.load(str(tmp / "a\0b")),
])
def test_embedded_null_bytes_refused(tmp_path, call):
    """A string with a NUL byte would reach C cut at it (another name, key,
    value or file): refused, as Python's open() does."""
    with pytest.raises(colb.InvalidArgument, match="null byte"):
        call(tmp_path)


@pytest.mark.parametrize("call", [
    lambda: colb.Policy("linucb-ind\udc80", 3, 2),
    lambda: colb.Policy("linucb-ind", 3, 2, width="fixed\udc80"),
    lambda: colb.Policy("linucb-ind", 3, 2, **{"lambda\udc80": 1}),
    lambda: colb.simulate(policies=["cmlb\udc80"], users=4, horizon=3, repeats=1),
    lambda: colb.simulate(env="clustered\udc80"),
])
def test_lone_surrogates_refused(call):
    """A str UTF-8 cannot encode (a lone surrogate, as os.fsdecode makes of
    an undecodable byte) is an InvalidArgument naming it, not a
    UnicodeEncodeError from deep inside the binding."""
    with pytest.raises(colb.InvalidArgument, match="not valid Unicode"):
        call()


def test_fractions_and_decimals_as_numbers():
    """Any numbers.Real (a Fraction) and a decimal.Decimal is a number; one
    beyond a double is OutOfRange (an OverflowError escaped from a Fraction,
    a Decimal was refused as 'not a number', and a Decimal beyond a double
    reached the library as inf)."""
    import decimal
    import fractions
    for v in (fractions.Fraction(1, 2), decimal.Decimal("0.5")):
        assert colb.Policy("linucb-ind", 3, 2, lambda_=v).options["lambda"] == 0.5
    for v in (fractions.Fraction(10 ** 400), decimal.Decimal("1e400"), decimal.Decimal("-1e400"),
              decimal.Decimal("sNaN")):
        with pytest.raises(colb.OutOfRange, match="lambda: a (Fraction|Decimal) beyond the range"):
            colb.Policy("linucb-ind", 3, 2, lambda_=v)
    with pytest.raises(colb.NonFinite):
        colb.Policy("linucb-ind", 3, 2, lambda_=decimal.Decimal("Infinity"))


@pytest.mark.parametrize("call, cls", [
    (lambda: colb.Policy(b"\xffcmlb", 3, 2), colb.NotFound),
    (lambda: colb.Policy("\u00e9" * 600, 3, 2), colb.NotFound),
    (lambda: colb.Policy("cmlb", 3, 2, width="x" + "\u00e9" * 600), colb.InvalidArgument),
    (lambda: colb.Policy("cmlb", 3, 2, **{"\u00e9" * 600: 1}), colb.NotFound),
    (lambda: colb.simulate(env="\u00e9" * 600), colb.InvalidArgument),
])
def test_messages_that_are_not_utf8(call, cls):
    """A library message naming a non-UTF-8 name, or cut by its buffer in
    the middle of a character, raises its status's class, not
    UnicodeDecodeError."""
    with pytest.raises(cls):
        call()


@pytest.mark.parametrize("data", [10 ** 6, 2 ** 40, "snapshot", None])
def test_from_bytes_takes_bytes_only(data):
    """from_bytes(n) with an int is a TypeError: bytes(n) would make n zero
    bytes (a terabyte for 2**40) and report them as a corrupt snapshot."""
    with pytest.raises(TypeError, match="bytes-like"):
        colb.Policy.from_bytes(data)


def test_from_bytes_of_any_buffer():
    data = colb.Policy("linucb-ind", 3, 2).to_bytes()
    for b in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        assert colb.Policy.from_bytes(b).users == 3


def test_club_tuning_settings_checked_as_colb_run_does():
    """club_tune is a boolean read as the library reads one ('0' and 'no'
    do not tune; 2 is refused), and club_burn_in, club_tune_repeats are
    checked whether or not CLUB is tuned, as colb run checks them."""
    small = dict(users=4, clusters=2, dim=2, arms=3, horizon=5, repeats=1)
    for off in (False, 0, "0", "no", "false", np.bool_(False)):
        assert colb.simulate(policies=["club"], club_tune=off, **small).tuned == ""
    assert colb.simulate(policies=["club"], club_tune="yes", club_burn_in=5,
                         club_tune_repeats=1, **small).tuned.startswith("club-alpha=")
    for bad in (2, "on", 0.5):
        with pytest.raises(colb.InvalidArgument, match="club_tune"):
            colb.simulate(policies=["club"], club_tune=bad, **small)
    for key, value, cls in [("club_burn_in", 2.5, TypeError), ("club_burn_in", 0, colb.OutOfRange),
                            ("club_tune_repeats", "x", TypeError)]:
        with pytest.raises(cls, match=key):
            colb.simulate(policies=["cmlb"], **{key: value}, **small)
    # club_own_alpha in text is read as a boolean too: "no" contradicts club_tune
    # (a non-empty str was taken as true, and the tuning overrode it)
    for off in ("no", "0", "false"):
        with pytest.raises(colb.InvalidArgument, match="choose one"):
            colb.simulate(policies=["club"], club_tune=True, club_own_alpha=off, **small)
    # simulate's own parameters in colb run's spelling would lose to their
    # defaults: refused, naming the parameter
    for key in ("curve-points", "club-tune", "club-burn-in"):
        with pytest.raises(colb.InvalidArgument, match=key.replace("-", "_") + "="):
            colb.simulate(policies=["club"], **{key: 1}, **{k: v for k, v in small.items() if k != key})


def test_misspelled_keyword_with_any_value():
    """A misspelled option is told as unknown, with a suggestion, whatever
    its value (a list was reported as a value 'not a number, bool or
    string', naming no option); a known option's bad value names it."""
    with pytest.raises(colb.NotFound, match="unknown policy parameter 'label'"):
        colb.Policy("oracle", 3, 2, label=[0, 1, 0])
    with pytest.raises(colb.NotFound, match="did you mean 'lambda'"):
        colb.Policy("linucb-ind", 3, 2, lamda=[1.0])
    with pytest.raises(colb.InvalidArgument, match="width: None is not a number"):
        colb.Policy("linucb-ind", 3, 2, width=None)


def test_integers_too_long_to_print():
    """An integer of thousands of digits is out of range like one of 2**64
    (Python refuses to print it: a ValueError escaped instead)."""
    huge = 10 ** 5000
    p = colb.Policy("cmlb", 5, 3)
    for call in (lambda: p.add_users(huge), lambda: p.theta(huge), lambda: colb.Policy("cmlb", huge, 3),
                 lambda: colb.Policy("cmlb", 5, 3, horizon=huge), lambda: colb.simulate(horizon=huge)):
        with pytest.raises(colb.OutOfRange, match="bits"):
            call()


def test_to_csv_bytes_folder(tmp_path):
    """A folder given as bytes (os.fsencode'd, as Policy.save takes) works:
    it was made, then a TypeError mixed bytes and str."""
    res = colb.simulate(policies=["random"], users=4, clusters=2, dim=2, arms=3, horizon=5, repeats=1)
    paths = res.to_csv(os.fsencode(str(tmp_path / "b")))
    assert all(os.path.exists(p) for p in paths)


def test_to_csv_errors_are_colb_errors(tmp_path):
    res = colb.simulate(policies=["random"], users=4, clusters=2, dim=2, arms=3, horizon=5, repeats=1)
    (tmp_path / "afile").write_text("x")
    for folder in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        with pytest.raises(colb.InputOutputError):
            res.to_csv(str(folder))


def test_width_tuning_is_refused_with_its_reason():
    """colb run's --tune is a tool option (each policy tuned and run apart):
    simulate says it does not take it, rather than 'unknown parameter'."""
    small = dict(users=4, clusters=2, dim=2, arms=3, horizon=5, repeats=1)
    for key in ("tune", "tune_burn_in", "tune_repeats"):
        with pytest.raises(colb.InvalidArgument, match="colb run --tune 1"):
            colb.simulate(policies=["linucb-ind"], **{key: 1}, **small)


SMALL = dict(users=4, clusters=2, dim=2, arms=3, horizon=5, repeats=1)


@pytest.mark.parametrize("call", [
    lambda pol, X: pol.choose(np.ma.masked_array(X, mask=np.zeros(X.shape, bool))),
    lambda pol, X: pol.choose(X, users=np.ma.masked_array([0, 1], mask=[False, True])),
    lambda pol, X: pol.choose(X, rewards=np.ma.masked_array(np.ones((N, K)))),
    lambda pol, X: colb.Policy("oracle", N, D, labels=np.ma.masked_array([0, 1, 0, 1, 0])),
    lambda pol, X: colb.Policy("linucb-ind", N, D, lambda_=np.ma.masked),
    lambda pol, X: colb.simulate(policies=np.ma.masked_array(["cmlb", "club"], mask=[False, True]),
                                 **SMALL),
    lambda pol, X: colb.simulate(policies=["cmlb"], **dict(SMALL, users=np.ma.masked_array(4))),
    # the counts handed to C as size_t, a masked value as much as an array
    lambda pol, X: pol.theta(np.ma.masked_array(1, mask=True)),
    lambda pol, X: pol.add_users(np.ma.masked_array(2, mask=True)),
    lambda pol, X: colb.Policy.from_bytes(pol.to_bytes(), memory_budget=np.ma.masked_array(2**30)),
    lambda pol, X: colb.simulate(policies=["club"], club_tune=True,
                                 club_burn_in=np.ma.masked_array(5, mask=True), **SMALL),
])
def test_masked_arrays_refused(pol, X, call):
    """numpy masked arrays are refused: the library would see their data
    with the masked entries as they are (a masked policy name as '--')."""
    with pytest.raises(colb.InvalidArgument, match="masked array") as e:
        call(pol, X)
    assert "colb does not read masks" in str(e.value)
    still_works(pol, X)


def test_masked_rewards_refused_round_open(pol, X):
    pol.choose(X)
    with pytest.raises(colb.InvalidArgument, match="rewards: a numpy masked array"):
        pol.observe(np.ma.masked_array(np.ones(N), mask=[True] + [False] * (N - 1)))
    pol.observe(np.ones(N))  # the round was left open


@pytest.mark.parametrize("bad, what", [
    (lambda X: [[str(v) for v in row] for row in X], "strings"),
    (lambda X: [[b"1", b"2", b"3"]] * K, "bytes"),
    (lambda X: [[True, False, True]] * K, "bools"),
    (lambda X: [[1j, 2, 3]] * K, "complex"),
    (lambda X: [["1", 2.0, 3.0]] * K, "strings"),
])
def test_lists_of_non_numbers_refused(pol, X, bad, what):
    """A list is converted only when it holds numbers: numpy would parse
    '0.5' as 0.5, take True as 1.0 and drop an imaginary part."""
    with pytest.raises(colb.InvalidArgument, match=f"contexts: not an array of numbers.*{what}"):
        pol.choose(bad(X))
    still_works(pol, X)
    pol.choose(X)
    with pytest.raises(colb.InvalidArgument, match=f"rewards: not an array of numbers.*{what}"):
        pol.observe([row[0] for row in bad(np.ones((N, D)))])
    pol.observe(np.ones(N))


def test_lists_of_numbers_converted(pol, X):
    ints = [[1, 0, 2]] * K
    assert pol.choose(ints).shape == (N,)
    pol.observe([1] * N)
    big = [[2 ** 70, 0, 0]] * K  # Python ints beyond int64: numpy's object dtype
    with pytest.raises(colb.OutOfRange, match="context"):
        pol.choose(big)
    still_works(pol, X)


@pytest.mark.parametrize("flag", [True, False, np.True_, np.array(True)])
def test_bools_are_not_integers(pol, X, flag):
    """A bool is an int to Python (True == 1): refused wherever an integer
    or a number is expected, taken where a boolean is."""
    for call in (lambda: colb.simulate(policies=["cmlb"], **dict(SMALL, users=flag)),
                 lambda: colb.simulate(policies=["cmlb"], **dict(SMALL, horizon=flag)),
                 lambda: colb.simulate(policies=["cmlb"], **dict(SMALL, repeats=flag)),
                 lambda: colb.simulate(policies=["cmlb"], seed=flag, **SMALL),
                 lambda: colb.simulate(policies=["cmlb"], noise=flag, **SMALL),
                 lambda: colb.simulate(policies=["cmlb"], max_memory=flag, **SMALL),
                 lambda: colb.Policy("linucb-ind", flag, D),
                 lambda: colb.Policy("linucb-ind", N, flag),
                 lambda: colb.Policy("linucb-ind", N, D, lambda_=flag)):
        with pytest.raises(colb.InvalidArgument, match="is a bool, expected"):
            call()
    for call, what in ((lambda: pol.add_users(flag), "add_users: n"),
                       (lambda: pol.theta(flag), "theta: user"),
                       (lambda: colb.simulate(policies=["club"], club_tune=True, club_burn_in=flag,
                                              **SMALL), "club_burn_in")):
        with pytest.raises(TypeError, match=f"{what}: expected an integer, got bool"):
            call()
    assert pol.users == N
    # boolean options take bools
    assert colb.Policy("club", N, D, club_own_alpha=flag).users == N
    assert colb.simulate(policies=["club"], club_tune=False, **SMALL).tuned == ""
    still_works(pol, X)


@pytest.mark.parametrize("call", [
    lambda: colb.simulate(policies=["cmlb"], **dict(SMALL, users="5")),
    lambda: colb.simulate(policies=["cmlb"], **dict(SMALL, horizon="5")),
    lambda: colb.simulate(policies=["cmlb"], seed="7", **SMALL),
    lambda: colb.simulate(policies=["cmlb"], noise="0.1", **SMALL),
    lambda: colb.simulate(policies=["cmlb"], cmlb_alpha=np.str_("0.2"), **SMALL),
    lambda: colb.simulate(policies=["cmlb"], **dict(SMALL, dim=b"2")),
    lambda: colb.Policy("linucb-ind", "5", D),
    lambda: colb.Policy("linucb-ind", N, D, lambda_="0.5"),
])
def test_text_for_a_number_is_a_type_error(call):
    """A str where an integer or a number is expected raises TypeError, as
    it does for every count of the binding ('5' is not parsed); text stays
    fine where it is the value's form: a choice, a boolean word, a size."""
    with pytest.raises(TypeError, match="expected (an integer|a number), got (str|bytes)"):
        call()


def test_text_where_text_belongs():
    res = colb.simulate(policies=["cmlb"], width="oful", diversify="yes", max_memory="64M", **SMALL)
    assert res.settings["width"] == "oful" and res.settings["max-memory"] == str(64 << 20)


@pytest.mark.parametrize("bad", [
    lambda X: [[1.0, True, 0.5]] + X.tolist()[1:],
    lambda X: [list(r[:-1]) + [np.False_] for r in X.tolist()],
    lambda X: [np.array([True, False, True])] + X.tolist()[1:],
    lambda X: tuple(tuple(r) for r in X.tolist()[:-1]) + ((0.1, 0.2, False),),
])
def test_a_bool_among_numbers_refused(pol, X, bad):
    """A bool inside a list of numbers is refused as a list of bools is:
    numpy would read [1, True] as [1, 1] (contexts, rewards, users,
    labels)."""
    with pytest.raises(colb.InvalidArgument, match="contexts: not an array of numbers.*bools"):
        pol.choose(bad(X))
    still_works(pol, X)
    pol.choose(X)
    with pytest.raises(colb.InvalidArgument, match="rewards: not an array of numbers.*bools"):
        pol.observe([1.0, 0.5, True, 0.0, 1.0])
    pol.observe(np.ones(N))
    with pytest.raises(colb.InvalidArgument, match="users: expected integers, got a bool"):
        pol.choose(X, users=[0, True])
    with pytest.raises(colb.InvalidArgument, match="labels: expected integers, got a bool"):
        colb.Policy("oracle", N, D, labels=[0, 1, True, 0, 1])
    with pytest.raises(colb.InvalidArgument, match="labels: expected integers, got a bool"):
        pol.add_users(2, labels=[0, np.True_])
    assert pol.users == N
    still_works(pol, X)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # numpy.matrix's own
@pytest.mark.parametrize("name", ["linucb-ind", "cmlb", "club"])
def test_reward_table_as_numpy_matrix(rng, name):
    """A reward table that is an ndarray subclass (numpy.matrix, what
    scipy.sparse's todense() returns) is played as the same ndarray would
    be: the chosen arms' rewards are observed and the round ends, rather
    than a (1, n) row being refused after the arms were chosen."""
    X = rng.normal(size=(K, D)) / np.sqrt(D)
    R = rng.normal(size=(N, K))
    ref, pol = colb.Policy(name, N, D), colb.Policy(name, N, D)
    for _ in range(3):
        want = ref.choose(X, rewards=R)
        got = pol.choose(X, rewards=np.asmatrix(R))
        assert isinstance(got, np.ndarray) and got.shape == (N,)
        np.testing.assert_array_equal(got, want)
    assert pol.rounds == ref.rounds == 3
    np.testing.assert_array_equal(pol.theta(), ref.theta())
    sub = pol.choose(X, users=[3, 1], rewards=np.asmatrix(R[[3, 1]]))
    np.testing.assert_array_equal(sub, ref.choose(X, users=[3, 1], rewards=R[[3, 1]]))
    np.testing.assert_array_equal(pol.theta(), ref.theta())


def test_zero_d_arrays_are_scalars(pol, X):
    """A 0-d numpy array (numpy.array(0.25), what reductions and indexing
    of arrays often give) is taken wherever a scalar is, as the numpy
    scalar it holds: it was refused as 'not a number, bool or string'. It
    meets that scalar's checks, with the same messages."""
    a = np.array
    p = colb.Policy("club", a(N), a(D), lambda_=a(0.25), seed=a(7, dtype=np.uint64),
                    club_alpha=a(0.5, dtype=np.float32), club_own_alpha=a(True), width=a("fixed"))
    assert (p.users, p.dim) == (N, D)
    assert p.options["lambda"] == 0.25 and p.options["seed"] == 7 and p.options["club_alpha"] == 0.5
    assert p.options["club_own_alpha"] is True and p.options["width"] == "fixed"
    res = colb.simulate(policies=["cmlb"], cmlb_alpha=a(0.2), club_tune=a(False),
                        **dict(SMALL, horizon=a(5), users=a(4, dtype=np.int32)))
    assert res.settings["cmlb-alpha"] == "0.2" and res.settings["horizon"] == "5"
    assert pol.theta(a(1)).shape == (D,)
    assert pol.add_users(a(1)) == N + 1
    assert colb.Policy.from_bytes(pol.to_bytes(), memory_budget=a(2 ** 30)).users == N + 1
    # refused as the scalar is, with its message
    for value in (np.nan, np.inf, -1.0, 1e7):
        with pytest.raises(colb.Error) as scalar:
            colb.Policy("linucb-ind", N, D, lambda_=value)
        with pytest.raises(type(scalar.value), match="lambda") as zero_d:
            colb.Policy("linucb-ind", N, D, lambda_=a(value))
        assert str(zero_d.value) == str(scalar.value)
    with pytest.raises(colb.InvalidArgument, match="lambda: True is a bool, expected a number"):
        colb.Policy("linucb-ind", N, D, lambda_=a(True))
    with pytest.raises(TypeError, match="add_users: n: expected an integer, got float64 2.0"):
        pol.add_users(a(2.0))
    with pytest.raises(TypeError, match="theta: user: expected an integer, got bool"):
        pol.theta(a(False))
    with pytest.raises(TypeError, match="expected a number, got str"):
        colb.Policy("linucb-ind", N, D, lambda_=a("0.5"))
    # only 0-d: an array of one entry is not a scalar, and a mask is refused
    with pytest.raises(colb.InvalidArgument, match="is not a number"):
        colb.Policy("linucb-ind", N, D, lambda_=a([0.25]))
    with pytest.raises(colb.InvalidArgument, match="masked"):
        colb.Policy("linucb-ind", N, D, lambda_=np.ma.masked_array(0.25))
    assert pol.users == N + 1 and pol.choose(X).shape == (N + 1,)
    pol.observe(np.ones(N + 1))
