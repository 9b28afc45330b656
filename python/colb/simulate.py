"""colb.simulate: run policies on a synthetic environment with the library's
simulator (colb/sim.h), as ``colb run`` does, and get its numbers as numpy
arrays: the same settings and seed give the same results as the files of
``colb run`` (summary.csv, curves.csv), bit for bit."""

import ctypes
import inspect
import math
import os

import numpy as np

from . import _lib, errors, params

# The defaults of `colb run` that differ from the library's (cli/options.c,
# config_default; params.SIMULATE_DEFAULTS): the paper's OFUL confidence,
# one fixed width for every policy, and (cli/data.c) the learners' noise
# scale R following the environment's noise unless given.
_POLICIES = ("oracle", "cmlb", "linucb-ind")


def _mean_ci95(x):
    """colb_mean_ci95 of the library, so that the numbers equal colb run's."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    m, h = ctypes.c_double(), ctypes.c_double()
    _lib.lib.colb_mean_ci95(x.ctypes.data, x.size, ctypes.byref(m), ctypes.byref(h))
    return m.value, h.value


class SimResult:
    """The results of :func:`colb.simulate`.

    Attributes:
        policies      the policy names, in the order given
        rounds        (points,) int array: the round of each curve point (the last is T)
        regret        (P, R, points) array: user-averaged cumulative regret of
                      policy i, repeat r, at each point
        wall          (P, R) array: seconds per job
        info          P lists of R strings: each job's final state line
        regret_mean, regret_ci95, ratio_mean, ratio_ci95
                      (P, points) arrays: the mean over repeats and its 95%
                      interval, and the same for the ratio to the random
                      policy's regret (NaN without "random" among the policies)
        summary       one dict per policy: the columns of colb run's summary.csv
        tuned         the CLUB constants chosen by club_tune ('' if not tuned)
        settings      every key of the run, environment and policies -> its text
    """

    def __init__(self, names, res, tuned, settings):
        lib = _lib.lib
        P, R, K = (lib.colb_sim_result_policies(res), lib.colb_sim_result_repeats(res),
                   lib.colb_sim_result_points(res))
        self.policies = tuple(names)
        self.tuned = tuned
        self.settings = settings
        self.rounds = np.array([lib.colb_sim_result_point_round(res, k) for k in range(K)],
                               dtype=np.intp)
        get = lib.colb_sim_result_regret
        self.regret = np.array([[[get(res, i, j, k) for k in range(K)] for j in range(R)]
                                for i in range(P)], dtype=np.float64).reshape(P, R, K)
        self.wall = np.array([[lib.colb_sim_result_wall(res, i, j) for j in range(R)]
                              for i in range(P)], dtype=np.float64).reshape(P, R)
        self.info = [[lib.colb_sim_result_info(res, i, j).decode() for j in range(R)]
                     for i in range(P)]
        rnd = self.policies.index("random") if "random" in self.policies else None
        shape = (P, K)
        self.regret_mean, self.regret_ci95 = np.empty(shape), np.empty(shape)
        self.ratio_mean, self.ratio_ci95 = np.full(shape, np.nan), np.full(shape, np.nan)
        # as cli/run.c summarize(): per point, over the repeats
        for i in range(P):
            for k in range(K):
                x = self.regret[i, :, k]
                self.regret_mean[i, k], self.regret_ci95[i, k] = _mean_ci95(x)
                if rnd is not None:
                    # paired by repeat, over every repeat: undefined (NaN) when
                    # random's regret is not > 0 in some repeat (paired_ratio)
                    base = self.regret[rnd, :, k]
                    if all(np.isfinite(b) and b > 0.0 for b in base):
                        y = [x[j] / base[j] for j in range(R)]
                        self.ratio_mean[i, k], self.ratio_ci95[i, k] = _mean_ci95(y)
        self.summary = []
        for i, name in enumerate(self.policies):
            wall = 0.0
            for j in range(R):
                wall += self.wall[i, j]
            self.summary.append({
                "reading": "default", "setting": "-", "policy": name, "repeats": R,
                "regret_mean": self.regret_mean[i, K - 1], "regret_ci95": self.regret_ci95[i, K - 1],
                "ratio_random_mean": self.ratio_mean[i, K - 1],
                "ratio_random_ci95": self.ratio_ci95[i, K - 1], "wall_s": wall,
                "tuned": tuned if name == "club" else "", "info": self.info[i][0]})

    def to_csv(self, folder):
        """Write summary.csv and curves.csv into folder (made if missing), in
        the format of ``colb run`` (docs/experiments.md). Each file is
        written as colb writes its snapshots (``colb_file_write``): to a
        temporary PATH.tmp.PID.N, fsynced and renamed into place, so that a
        reader or a crash never sees half a file; a failed write leaves the
        old file and no temporary, and the temporaries that killed writers
        (a crash, SIGKILL) left are removed. Raises InputOutputError (an
        OSError) with the system's reason. Returns the two paths."""
        folder = os.fsdecode(_lib.c_str(os.fsencode(folder), "to_csv: folder"))  # str, bytes or a path; no NUL
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:  # a file in the way, no permission: colb's error, as a failed write
            raise errors.InputOutputError(f"{folder}: {e.strerror or e}") from e
        summary = ["reading,setting,policy,repeats,regret_mean,regret_ci95,ratio_random_mean,"
                   "ratio_random_ci95,wall_s,tuned,info"]
        for r in self.summary:
            summary.append(",".join([
                _field(r["reading"]), _field(r["setting"]), r["policy"], str(r["repeats"]),
                "%.10g" % r["regret_mean"], _num(r["regret_ci95"]), _num(r["ratio_random_mean"]),
                _num(r["ratio_random_ci95"]), "%.4f" % r["wall_s"], _field(r["tuned"]),
                _field(r["info"])]))
        curves = ["reading,setting,policy,round,regret_mean,regret_ci95,ratio_random_mean,"
                  "ratio_random_ci95"]
        for i, name in enumerate(self.policies):
            for k, t in enumerate(self.rounds):
                curves.append(",".join([
                    "default", "-", name, str(int(t)), "%.10g" % self.regret_mean[i, k],
                    _num(self.regret_ci95[i, k]), _num(self.ratio_mean[i, k]),
                    _num(self.ratio_ci95[i, k])]))
        paths = []
        msg = _lib.msg_buffer()
        for name, lines in (("summary.csv", summary), ("curves.csv", curves)):
            path = os.path.join(folder, name)
            data = ("\n".join(lines) + "\n").encode("utf-8")
            # the library's writer: temporaries of their own for concurrent
            # writers (threads too), nothing left behind on failure
            st = _lib.lib.colb_file_write(_lib.c_str(os.fsencode(path), "to_csv: folder"), data, len(data),
                                          msg, _lib.MSG_LEN)
            if st:
                raise _lib.error(st, msg.value)
            paths.append(path)
        return tuple(paths)

    def plot(self, ratio=False, ax=None):
        """Plot the mean regret curves with their 95% bands (matplotlib;
        ImportError if it is not installed), or with ratio=True their ratio
        to the random policy's (ValueError if ``random`` is not among the
        policies), into ax (a matplotlib Axes; default a new figure's).
        Returns the axes."""
        from .plot import plot_result
        return plot_result(self, ax=ax, ratio=ratio)

    def __repr__(self):
        cells = ", ".join(f"{r['policy']}={r['regret_mean']:.4g}" for r in self.summary)
        return (f"<colb.SimResult T={int(self.rounds[-1])} repeats={self.regret.shape[1]}: "
                f"final regret {cells}>")


def _field(s):
    if not any(c in s for c in ',"\n'):
        return s
    return '"' + s.replace('"', '""') + '"'


def _num(v):
    return "" if math.isnan(v) else "%.10g" % v


def _settings(spec):
    out, buf = {}, ctypes.create_string_buffer(64)
    for kind in params.options().values():
        for o in kind:
            if o.key not in out and not _lib.lib.colb_sim_spec_get(spec, o.key.encode(), buf, 64):
                out[o.key] = buf.value.decode()
    return out


def simulate(env="clustered", policies=_POLICIES, horizon=1000, repeats=30, seed=1, threads=1,
             *, curve_points=100, club_tune=False, club_burn_in=None, club_tune_repeats=None,
             progress=None, **opts):
    """Simulate ``policies`` on environment ``env`` with the library's simulator.

    The settings and defaults are those of ``colb run`` (``colb run --help``,
    docs/experiments.md), with underscores for dashes: the environment
    (``users``, ``clusters``, ``zipf``, ``cluster_sizes``, ``dim``, ``arms``,
    ``noise``, ``sigma_theta``, ``normalize``), the learners and policies (``lambda_`` or
    ``**{"lambda": ...}``, ``delta``, ``cmlb_alpha``, ``club_alpha``, ...) and
    the run (``horizon``, ``repeats``, ``seed``, ``threads``,
    ``curve_points``, ``max_memory``, ``club_tune``, ``club_burn_in``,
    ``club_tune_repeats``).  As in ``colb run``, ``delta`` defaults to 0.4,
    the width to ``fixed`` with ``alpha`` 0.25 (one width for every policy,
    CLUB's included) and ``learner_noise`` to the environment's ``noise``.  For the same settings
    and seed the results equal ``colb run``'s summary.csv and curves.csv
    (:meth:`SimResult.to_csv` writes them), for any number of threads.

    env: "clustered" or "personalized" (the logged data sets of ``colb run``
    are not available here; a loop over :class:`colb.Policy` serves your
    own data).  An option of the environment that ``env`` does not read
    (``clusters``, ``zipf`` and ``cluster_sizes`` are the clustered users',
    ``sigma_theta`` and ``normalize`` the personalized users') raises InvalidArgument, as
    ``colb run`` refuses it: it would change nothing.  So does an option of
    the policies that no policy of ``policies`` reads as set (``cmlb_alpha``
    without cmlb or sclb, ``alpha`` with ``width="oful"``, ``club_alpha``
    with ``club_own_alpha=False``: the library's rules,
    colb_sim_spec_param_read).
    progress: optional callable(rounds_done, horizon).

    The simulation runs in the library without the GIL; Ctrl-C stops it at
    the next of 20 steps.  Results do not depend on ``threads``.

    Returns a :class:`SimResult`.  Raises the library's errors (e.g.
    NotFound for an unknown policy or option (with the closest name of an
    option or of simulate's own parameters), OutOfRange for a value out of
    range, OutOfMemory over the memory budget) with its message.
    """
    lib = _lib.lib
    # colb run's own settings, checked as it checks them, tuning or not
    club_tune = _flag(club_tune, "club_tune")
    # None: the library's defaults (0 in C)
    burn_in = 0 if club_burn_in is None else _lib.size(club_burn_in, "club_burn_in", 1)
    tune_repeats = 0 if club_tune_repeats is None else \
        _lib.size(club_tune_repeats, "club_tune_repeats", 1)
    _lib.refuse_masked(policies, "policies")
    names = [policies] if isinstance(policies, str) else list(policies)
    if not names:
        raise errors.InvalidArgument("policies: no policies to run")
    for n in names:
        if not isinstance(n, str):  # bytes would run, and come back as names of another type
            raise errors.InvalidArgument(f"policies: {n!r} is not a str (a policy's name)")
    encoded = [_lib.c_str(n, "policies") for n in names]
    resolved = [(lib.colb_policy_resolve(e) or e).decode() for e in encoded]
    for i, n in enumerate(names):
        if names.index(n) != i:
            raise errors.InvalidArgument(f"policies: {n!r} is listed twice")
        j = resolved.index(resolved[i])
        if j != i:
            raise errors.InvalidArgument(f"policies: {names[j]!r} and {n!r} are the same policy "
                                         f"({resolved[i]}); list it once")
    params.once(opts, "simulate")
    # colb run's rules for CLUB's tuning: an option that changes nothing,
    # or a contradiction, is refused
    if club_tune and "club" not in resolved:
        raise errors.InvalidArgument("club_tune: read only by club, which is not among policies; leave it out")
    if not club_tune and (club_burn_in is not None or club_tune_repeats is not None):
        raise errors.InvalidArgument("club_burn_in, club_tune_repeats: read only with club_tune=True "
                                     "(CLUB's tuning); leave them out")
    # the named parameters in another spelling (**{"curve-points": 5}) would
    # be overridden by the named ones' defaults: refused
    for k in opts:
        if params.key_of(k) in _NAMED:
            raise errors.InvalidArgument(f"{k}: give it as simulate's parameter "
                                         f"{params.key_of(k).replace('-', '_')}=...")
    own = [v for k, v in opts.items() if params.key_of(k) == "club-own-alpha"]
    if club_tune and own and not _flag(own[0], "club_own_alpha"):
        raise errors.InvalidArgument("club_tune=True tunes CLUB's own alpha; club_own_alpha=False keeps "
                                     "CLUB on the shared width: choose one")
    if "lambda_" in opts:
        opts["lambda"] = opts.pop("lambda_")
    for k in ("tune", "tune_burn_in", "tune_repeats"):
        if k in opts:  # colb run's, not the library's: it runs each policy apart
            raise errors.InvalidArgument(
                f"{k}: colb run's width tuning (--tune) is not available in simulate; "
                "use colb run --tune 1, or pass each policy its alpha")
    spec = _lib.buffer(lib.colb_sim_spec_size())
    lib.colb_sim_spec_default(spec)
    kinds = ("run", "environment", "policy")
    items = [("env", env)] + list(params.SIMULATE_DEFAULTS.items()) + \
        list(opts.items()) + [
        ("horizon", horizon), ("repeats", repeats), ("seed", seed), ("threads", threads),
        ("curve_points", curve_points)]
    params.apply(lib.colb_sim_spec_set, spec, items, kinds, own=_PARAMETERS)
    _refuse_unread(spec, opts)
    c_names = (ctypes.c_char_p * len(names))(*encoded)
    lib.colb_sim_spec_set_policies(spec, c_names, len(names))
    _refuse_unread_by_policies(spec, opts, names, _TUNED_CLUB if club_tune else 0)
    if not any(params.key_of(k) == "learner-noise" for k in opts):
        noise = ctypes.create_string_buffer(64)
        lib.colb_sim_spec_get(spec, b"noise", noise, 64)
        # the shortest text of the double reads back as that double
        params.apply(lib.colb_sim_spec_set, spec, [("learner-noise", float(noise.value.decode()))],
                     kinds)
    msg = _lib.msg_buffer()
    tuned = ""
    if club_tune and "club" in names:
        a, a2 = ctypes.c_double(), ctypes.c_double()
        st = lib.colb_club_tune(spec, None, 0, None, 0, burn_in, tune_repeats, ctypes.byref(a),
                                ctypes.byref(a2), msg, _lib.MSG_LEN)
        if st:
            raise _lib.error(st, "club tuning: " + msg.value.decode(errors="replace"))
        # CLUB tuned alone explores with its own alpha (colb run does the same)
        params.apply(lib.colb_sim_spec_set, spec, [("club-own-alpha", True),
                                                    ("club-alpha", a.value),
                                                    ("club-alpha2", a2.value)], kinds)
        tuned = "club-alpha=%g club-alpha2=%g" % (a.value, a2.value)
    sim = ctypes.c_void_p()
    st = lib.colb_sim_create(spec, ctypes.byref(sim), msg, _lib.MSG_LEN)
    if st:
        raise _lib.error(st, msg.value)
    try:
        T = int(horizon)
        step = max(1, -(-T // 20))
        for until in range(step, T + step, step):
            if progress:
                progress(until - step, T)
            st = lib.colb_sim_advance(sim, min(until, T), msg, _lib.MSG_LEN)
            if st:
                raise _lib.error(st, msg.value)
        if progress:
            progress(T, T)
        return SimResult(names, lib.colb_sim_results(sim), tuned, _settings(spec))
    finally:
        lib.colb_sim_free(sim)


#: simulate's own parameters: a misspelled one (``polices``, ``club_tun``)
#: gets the closest name, as a misspelled option of the library does
_PARAMETERS = tuple(n for n, p in inspect.signature(simulate).parameters.items()
                    if p.kind is not p.VAR_KEYWORD)

#: simulate's own parameters (progress aside), as the keys of colb run's
#: options: given in that spelling among **opts, they are refused
_NAMED = tuple(params.key_of(n) for n in _PARAMETERS if n != "progress")


_ENV_KINDS = ("clustered", "personalized")


def _refuse_unread(spec, opts):
    """An option of the environment that the chosen kind does not read
    (``zipf`` for ``env="personalized"``) would change nothing: refused as
    ``colb run`` refuses it, with InvalidArgument (a ValueError) naming the
    option and the environment. The library says which kind reads which
    key (colb_env_param_used)."""
    buf = ctypes.create_string_buffer(64)
    _lib.lib.colb_sim_spec_get(spec, b"env", buf, 64)
    env = buf.value
    for name in opts:
        key = params.key_of(name).encode()
        if _lib.lib.colb_env_param_used(env, key) == 0:
            readers = [k for k in _ENV_KINDS if _lib.lib.colb_env_param_used(k.encode(), key) == 1]
            raise errors.InvalidArgument(
                f"option {name!r} is not used by env={env.decode()!r}, only by "
                f"{', '.join(readers)}; leave it out")


# colb/params.h: the tunings a run applies, for colb_sim_spec_param_read
_TUNED_CLUB = 2  # COLB_TUNED_CLUB: colb_club_tune chooses club-alpha, club-alpha2

# The settings under which the policies that may read a key read it (the
# rules of colb_sim_spec_param_read, for messages).
_READ_WHEN = {
    "width": "by club only on the shared width (club_own_alpha=False, club_tune=False)",
    "alpha": "only with width='fixed', and by club only on the shared width "
             "(club_own_alpha=False, club_tune=False)",
    "delta": "only with width='oful', except by cmlb, sclb and pmlb (pmlb_learner='alb-norm'), "
             "which read it with either width",
    "learner-noise": "only with width='oful', except by cohort, pmlb (pmlb_learner='alb-norm'), "
                     "cmlb and sclb (cmlb_threshold='data'), which read it with either width",
    "norm-bound": "only with width='oful', except by pmlb (pmlb_learner='alb-norm'), cmlb and "
                  "sclb (cmlb_threshold='data'), which read it with either width",
    "cmlb-threshold": "by sclb, and by cmlb only with cmlb_gamma=0",
    "club-alpha": "only with club_own_alpha=True and club_tune=False",
    "club-alpha2": "only with club_tune=False",
}


def _refuse_unread_by_policies(spec, opts, names, tuned):
    """An option of the policies that no policy of the run reads as it is
    set (``cmlb_alpha`` without cmlb or sclb, ``alpha`` with
    ``width="oful"``) would change nothing: refused as ``colb run`` refuses
    it, with InvalidArgument (a ValueError) naming the option and the
    policies that would read it. The library says which policies read
    which key under which settings (colb_sim_spec_param_read); the keys
    that colb_sim_spec_set gives the run or the environment (``users``,
    ``dim``, ``max_memory``) are not the policies' here."""
    lib = _lib.lib
    every = params.options()
    # colb_sim_spec_set gives these keys to the run or the environment
    not_theirs = {o.key for kind in ("run", "environment") for o in every[kind]}
    for name in opts:
        key = params.key_of(name)
        if key in not_theirs or lib.colb_sim_spec_param_read(spec, key.encode(), tuned) != 0:
            continue
        readers = [p for p in params.policy_names()
                   if lib.colb_policy_param_used(p.encode(), key.encode()) == 1]
        chosen = [n for n in names
                  if lib.colb_policy_param_used(lib.colb_policy_resolve(n.encode()),
                                                key.encode()) == 1]
        if not chosen:
            raise errors.InvalidArgument(
                f"option {name!r} is read only by {', '.join(readers)}, none of which is among "
                f"policies={names}; leave it out")
        raise errors.InvalidArgument(
            f"option {name!r} is not read by policies={names} as set here: "
            f"{', '.join(chosen)} could read it, but it is read "
            f"{_READ_WHEN.get(key, 'under other settings')}; leave it out")


def _flag(value, what):
    """A boolean setting read as the library reads one: a bool, 0 or 1, or
    the text 0/1, true/false, yes/no (a non-empty str such as '0' is not
    simply true)."""
    text = _lib.text(value)
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    raise errors.InvalidArgument(f"{what}: {value!r} is not a boolean (0/1, true/false, yes/no)")
