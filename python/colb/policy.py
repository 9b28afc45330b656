"""colb.Policy: one center serving N users with a multi-agent bandit policy
of libcolb (colb/policy.h), round by round, on numpy arrays."""

import ctypes
import numbers
import os

import numpy as np

from . import _lib, errors, params

_F64 = np.dtype(np.float64)
_INTP = np.dtype(np.intp)   # size_t's size: the library writes arms into it


REWARD_MAX = 1e9  # COLB_REWARD_MAX (colb/limits.h)
CONTEXT_MAX = 1e6  # COLB_CONTEXT_MAX (colb/limits.h)

# what a list converted by numpy holds, by dtype kind, for messages
_KINDS = {"U": "strings", "S": "bytes", "b": "bools", "c": "complex numbers",
          "M": "dates", "m": "time spans", "V": "records"}


def _holds_bool(x, what=None):
    """Whether a list or tuple holds a bool (or a numpy bool, or an array of
    them) at any depth: numpy converts [1, True] to [1, 1] without a word,
    so a bool among numbers is refused as a bool alone is. A masked array
    or value inside (given `what`) is refused (InvalidArgument), as one at
    the top is: numpy would drop its mask."""
    stack = [x]
    while stack:
        v = stack.pop()
        if what is not None:
            _lib.refuse_masked(v, what)
        if isinstance(v, (bool, np.bool_)):
            return True
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, np.ndarray) and (v.dtype.kind == "b" or (
                v.dtype.kind == "O" and any(isinstance(e, (bool, np.bool_)) for e in v.flat))):
            return True
    return False


def _array(x, what, ndims):
    """x as a float64 C-contiguous ndarray (the base class: a subclass's
    data is viewed as one) of one of the ranks `ndims`, without a copy. A
    numpy array of another dtype or layout is refused
    (converting it would copy it behind the caller's back), and so is a
    masked array (its mask would be dropped); a list or tuple of numbers
    (ints or floats, not strings, bools or complex numbers, which numpy
    would convert) is converted."""
    _lib.refuse_masked(x, what)
    if not isinstance(x, np.ndarray):
        if _holds_bool(x, what):
            raise errors.InvalidArgument(f"{what}: not an array of numbers (it holds bools, which "
                                         "numpy would read as 1.0 and 0.0)")
        try:
            a = np.asarray(x)
            if a.dtype.kind not in "iuf" and not (
                    a.dtype.kind == "O" and all(isinstance(v, numbers.Real) and
                                                not isinstance(v, (bool, np.bool_)) for v in a.flat)):
                raise TypeError(f"dtype {a.dtype} ({_KINDS.get(a.dtype.kind, 'objects')})")
            x = np.asarray(a, dtype=_F64)
        except (TypeError, ValueError, OverflowError) as e:  # an int beyond any float: Overflow
            raise errors.InvalidArgument(f"{what}: not an array of numbers ({e})") from None
    elif x.dtype != _F64:
        raise errors.InvalidArgument(
            f"{what}: dtype {x.dtype}, expected float64; colb does not copy arrays silently: "
            f"pass numpy.ascontiguousarray({what}, dtype=numpy.float64)")
    elif not x.flags.c_contiguous:
        raise errors.InvalidArgument(
            f"{what}: not C-contiguous (a strided view or a transpose); colb does not copy "
            f"arrays silently: pass numpy.ascontiguousarray({what})")
    elif not x.flags.aligned:
        raise errors.InvalidArgument(
            f"{what}: its data is not aligned for float64 (a view at a byte offset); colb does "
            f"not copy arrays silently: pass numpy.array({what})")
    if type(x) is not np.ndarray:
        # a subclass (numpy.matrix, what scipy.sparse's todense() gives, a
        # memmap) as the plain ndarray of the same memory, without a copy:
        # numpy.matrix would keep its rows 2-d when indexed (R[rows, arms])
        x = x.view(np.ndarray)
    if x.ndim not in ndims:
        raise errors.InvalidArgument(
            f"{what}: {x.ndim} dimensions (shape {x.shape}), expected "
            + " or ".join(f"{n}" for n in ndims))
    return x


def _refuse_values(a, served, call, what, limit):
    """Raise NonFinite or OutOfRange for the first entry of a (its first
    axis: the served users, in order) that is not finite or beyond
    +-limit, as the library would refuse it, naming the user (the
    entry of ``served``, or its position when None) and the entry's other
    indices: what a batch is checked with before any of it is applied."""
    bad = ~(np.abs(a) <= limit)  # NaN too
    if not bad.any():
        return
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    u = at[0] if served is None else int(served[at[0]])
    v = a[at]
    where = f"{call}: {what} of user {u}" + "".join(f", {n} {i}" for n, i in
                                                   zip(("arm", "entry"), at[1:]))
    if not np.isfinite(v):
        raise errors.NonFinite(f"{where} is {v}")
    raise errors.OutOfRange(f"{where} is {v}, beyond +-{limit:g}")


def _addr(a):
    """The address of a C-contiguous array's data. ctypes' view of a
    writable buffer costs a third of numpy's .ctypes.data, which matters for
    the per-call overhead; read-only and empty arrays take the latter."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


def _indices(x, what, n, bound):
    """x as an intp array of n distinct indices in [0, bound) (a copy)."""
    _lib.refuse_masked(x, what)
    if not isinstance(x, np.ndarray) and _holds_bool(x, what):
        raise errors.InvalidArgument(f"{what}: expected integers, got a bool among them (numpy would "
                                     "read it as 1 or 0)")
    a = np.asarray(x)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise errors.InvalidArgument(f"{what}: expected a 1-d sequence of integers, got shape "
                                     f"{a.shape}, dtype {a.dtype}")
    if n is not None and a.size != n:
        raise errors.InvalidArgument(f"{what}: {a.size} entries, expected {n}")
    if a.size and (a.min() < 0 or a.max() >= bound):
        raise errors.OutOfRange(f"{what}: an entry out of range [0, {bound})")
    a = np.array(a, dtype=_INTP)
    return a


class Policy:
    """A multi-agent bandit policy serving ``users`` users in dimension ``dim``.

    ``Policy(name, users, dim, **options)`` creates policy ``name`` (one of
    :func:`colb.policies`, e.g. ``"linucb-ind"``, ``"cmlb"``, ``"club"``).
    Options are those of ``colb run`` with underscores: ``lambda_=...`` or
    ``**{"lambda": ...}``, ``cmlb_alpha=0.3``, ``width="fixed"``, ``seed=7``;
    :func:`colb.policies` lists what each policy reads.  ``labels`` gives the
    users' true clusters (N integers), which the ``oracle`` needs.

    A round::

        arms = policy.choose(X)          # X: (K, d) contexts seen by every user
        policy.observe(rewards)          # rewards[i]: reward of arms[i]

    ``choose`` takes float64 C-contiguous arrays (or lists), without copying
    them; arms come back as an int array.  Every error of the library is
    raised as a :class:`colb.Error` subclass carrying its message.  A policy
    is not thread-safe; distinct policies may run in distinct threads (the
    library releases the GIL).
    """

    def __init__(self, name, users, dim, *, labels=None, **opts):
        self._h = None
        self._init_round()
        params.once(opts, "Policy")
        if "lambda_" in opts:  # `lambda` is a Python keyword
            opts["lambda"] = opts.pop("lambda_")
        pp = _lib.buffer(_lib.lib.colb_policy_params_size())
        _lib.lib.colb_policy_params_default(pp)
        params.apply(_lib.lib.colb_policy_params_set, pp,
                      [("users", users), ("dim", dim)] + list(opts.items()), ("policy",), own=("labels",))
        keep = None
        if labels is not None:
            keep = _indices(labels, "labels", int(users), 2 ** 62)
            n = int(keep.max()) + 1 if keep.size else 0
            _lib.lib.colb_policy_params_set_clusters(pp, keep.ctypes.data, n)
        h, msg = ctypes.c_void_p(), _lib.msg_buffer()
        st = _lib.lib.colb_policy_create(_lib.c_str(name, "policy name"), pp, ctypes.byref(h), msg,
                                         _lib.MSG_LEN)
        del keep  # the library copied the labels
        if st:
            text = msg.value.decode(errors="replace")  # may name a non-UTF-8 name
            if "unknown policy" in text:
                text += " (known: " + ", ".join(params.policy_names()) + ")"
            raise _lib.error(st, text)
        self._adopt(h.value, int(dim))

    # ---- construction ------------------------------------------------------

    def _init_round(self):
        self._open = False
        self._served = None  # None: every user (choose_all); else the users' indices

    def _adopt(self, handle, dim):
        self._h = handle
        self._dim = dim
        self._name = _lib.lib.colb_policy_name(handle).decode()
        self._sequential = bool(_lib.lib.colb_policy_is_sequential(handle))
        self._size_buffers()

    def _size_buffers(self):
        self._n = _lib.lib.colb_policy_users(self._h)
        self._arms = np.empty(self._n, dtype=_INTP)
        self._arms_p = self._arms.ctypes.data

    @classmethod
    def _from_handle(cls, handle, dim):
        self = cls.__new__(cls)
        self._h = None
        self._init_round()
        self._adopt(handle, dim)
        return self

    def _fail(self, st, closing=False):
        """The exception of a failed call on the policy (its last error).
        With closing, or after a numerical failure (the policy is fenced:
        its round can only be closed), an open round is ended."""
        err = _lib.error(st, _lib.lib.colb_policy_last_error(self._h))
        if (closing or st == _NUMERIC) and self._open:  # never leave a half-served round open
            _lib.lib.colb_policy_end_round(self._h)
            self._init_round()
        return err

    def _handle(self):
        if not self._h:
            raise errors.StateError(f"policy '{self._name}' is closed")
        if _lib.lib.colb_policy_users(self._h) != self._n:
            # users added, and an exception (Ctrl-C) came before the buffers
            # followed: never let the library write past them
            self._size_buffers()
        return self._h

    # ---- the round protocol --------------------------------------------------

    def choose(self, contexts, users=None, rewards=None):
        """Choose an arm for every user (or for ``users``).

        contexts: float64 array, C-contiguous, either
          * (K, d): one round in which every served user sees the same K
            contexts (``users``: which users, default all N, in that order);
          * (n, K, d): per-user contexts, served as the simulator's per-user
            protocol does, one round per user in order.  User u+1's round
            opens only after user u's reward is observed, so ``rewards`` is
            required in this form.
        users: indices of the users to serve (distinct), default all.
        rewards: optional (n, K) table of every served user's reward for
            every arm; the chosen arms' rewards are then observed and the
            round ends here (no :meth:`observe` call), exactly as the
            simulator plays a round: a sequential policy (CLUB) is served
            user by user, choose then observe, the others all at once.

        Returns the chosen arms, an int array of n entries.  Without
        ``rewards`` the round stays open until :meth:`observe` or
        :meth:`end_round`.  With ``rewards``, every entry of the table (not
        only the chosen arms': which arms a sequential policy or a later
        per-user round chooses depends on the rewards observed before) and
        of (n, K, d) contexts is checked before the first round opens: a
        refused table (a NaN or Inf, a reward beyond 1e9, a context entry
        beyond 1e6) raises and changes nothing, no round is counted.

        Raises InvalidArgument (shape, dtype, layout, K = 0), NonFinite (a
        NaN or Inf context or reward), OutOfRange (a context entry beyond
        1e6, a reward beyond 1e9, a user out of range), StateError (a round
        is open), NumericalError (the policy failed numerically, earlier or
        in this call's updates: see :meth:`observe`; the round is closed).
        """
        h = self._handle()
        if (type(contexts) is not np.ndarray or contexts.dtype != _F64
                or not contexts.flags.c_contiguous or not contexts.flags.aligned
                or contexts.ndim not in (2, 3)):
            contexts = _array(contexts, "contexts", (2, 3))
        if contexts.shape[-1] != self._dim:
            raise errors.InvalidArgument(f"contexts: shape {contexts.shape}, expected last "
                                         f"dimension d = {self._dim}")
        K = contexts.shape[-2]
        if K == 0:
            raise errors.InvalidArgument("contexts: K = 0 arms")
        if self._open:
            raise errors.StateError("choose: the round is still open; call observe(rewards) "
                                    "or end_round() first")
        lib = _lib.lib
        if users is None and contexts.ndim == 2 and rewards is None:
            # the fast path: one shared round for every user
            st = lib.colb_policy_begin_round(h, _addr(contexts), K)
            if st:
                raise self._fail(st)
            self._open = True
            self._served = None
            st = lib.colb_policy_choose_all(h, self._arms_p)
            if st:
                raise self._fail(st, closing=True)
            return self._arms.copy()
        served = None if users is None else _indices(users, "users", None, self._n)
        n = self._n if served is None else served.size
        if contexts.ndim == 3 and contexts.shape[0] != n:
            raise errors.InvalidArgument(f"contexts: shape {contexts.shape}, expected ({n}, K, d): "
                                         "one (K, d) block per served user")
        if served is not None and np.unique(served).size != n:
            raise errors.InvalidArgument("users: an index is listed twice")
        if rewards is not None:
            rewards = _array(rewards, "rewards", (2,))
            if rewards.shape != (n, K):
                raise errors.InvalidArgument(f"rewards: shape {rewards.shape}, expected ({n}, {K})")
            # all of the batch before any of it: the library checks one
            # round's contexts, or one observation, at a time
            _refuse_values(rewards, served, "choose", "reward", REWARD_MAX)
            if contexts.ndim == 3:
                _refuse_values(contexts, served, "choose", "context", CONTEXT_MAX)
        elif contexts.ndim == 3:
            raise errors.InvalidArgument(
                "contexts of shape (n, K, d) are served one round per user, and user u+1's "
                "round starts after user u's reward is observed: pass rewards= (an (n, K) "
                "table), or serve one user at a time with choose(contexts[u], users=[u]) "
                "and observe([reward])")
        if contexts.ndim == 3:
            return self._per_user(contexts, served, rewards)
        st = lib.colb_policy_begin_round(h, _addr(contexts), K)
        if st:
            raise self._fail(st)
        self._open = True
        self._served = served
        arms = self._arms[:n]
        if rewards is not None and self._sequential:
            ids = range(n) if served is None else served.tolist()
            for i, u in enumerate(ids):
                st = lib.colb_policy_choose(h, u, self._arms_p + self._arms.itemsize * i)
                if not st:
                    st = lib.colb_policy_observe(h, u, int(arms[i]), float(rewards[i, arms[i]]))
                if st:
                    raise self._fail(st, closing=True)
            return self._end_with(arms)
        if served is None:
            st = lib.colb_policy_choose_all(h, self._arms_p)
            if st:
                raise self._fail(st, closing=True)
        else:
            for i, u in enumerate(served):
                st = lib.colb_policy_choose(h, int(u), self._arms_p + self._arms.itemsize * i)
                if st:
                    raise self._fail(st, closing=True)
        if rewards is None:
            return arms.copy()
        try:
            self.observe(np.ascontiguousarray(rewards[np.arange(n), arms]))
        except errors.Error:
            if self._open:  # refused (the rewards were checked): the round ends without feedback
                self.end_round()
            raise
        return arms.copy()

    def _end_with(self, arms):
        st = _lib.lib.colb_policy_end_round(self._h)
        self._init_round()
        if st:
            raise self._fail(st)
        return arms.copy()

    def _per_user(self, X, served, R):
        lib, h, K = _lib.lib, self._h, X.shape[1]
        n = X.shape[0]
        out = np.empty(n, dtype=_INTP)
        arm = ctypes.c_size_t()
        base, stride = X.ctypes.data, X.strides[0]
        for i in range(n):
            u = i if served is None else int(served[i])
            st = lib.colb_policy_begin_round(h, base + i * stride, K)
            if st:
                raise self._fail(st)
            self._open = True
            st = lib.colb_policy_choose(h, u, ctypes.byref(arm))
            if not st:
                st = lib.colb_policy_observe(h, u, arm.value, float(R[i, arm.value]))
            if st:
                raise self._fail(st, closing=True)
            st = lib.colb_policy_end_round(h)
            self._init_round()
            if st:
                raise self._fail(st)
            out[i] = arm.value
        return out

    def observe(self, rewards):
        """Observe the rewards of the arms chosen this round and end it.

        rewards: float64 array (or list) of one reward per served user, in
        the order of the arms :meth:`choose` returned.  Every reward is
        checked (finite, at most 1e9 in size) before any is applied; on
        such an error the round stays open (fix the rewards and call
        again, or :meth:`end_round`).

        A numerical failure of an update (NumericalError: an estimate no
        longer finite, an aggregate no longer positive definite; inputs
        within the limits above do not cause one) is not undone by the
        library: a sequential policy (CLUB) keeps the updates of the users
        before the one that failed, another policy may keep part of the
        round's update.  The policy is then fenced: every later call that
        reads or changes its state (choose, observe, theta, clusters,
        add_users, set_max_memory, save, to_bytes, pickling) raises
        NumericalError, so that the half-applied batch is never seen, used
        or saved; only ``rounds``, ``info``, ``options`` and ``close``
        still work, and the round is closed.  Create a new policy, or load
        one saved before.

        Raises StateError (no open round), InvalidArgument (shape, dtype,
        layout), NonFinite, OutOfRange, NumericalError (above).
        """
        h = self._handle()
        if not self._open:
            raise errors.StateError("observe: no open round (call choose first)")
        if (type(rewards) is not np.ndarray or rewards.dtype != _F64
                or not rewards.flags.c_contiguous or not rewards.flags.aligned or rewards.ndim != 1):
            rewards = _array(rewards, "rewards", (1,))
        served = self._served
        n = self._n if served is None else served.size
        if rewards.shape[0] != n:
            raise errors.InvalidArgument(f"rewards: {rewards.shape[0]} values, expected {n} "
                                         "(one per user served this round)")
        lib = _lib.lib
        if served is None:
            st = lib.colb_policy_observe_all(h, self._arms_p, _addr(rewards))
            if st:
                raise self._fail(st)
        else:
            # the library checks each observation; check all of them first
            # so that none is applied when one is bad, as observe_all does
            _refuse_values(rewards, served, "observe", "reward", REWARD_MAX)
            for i, u in enumerate(served):
                st = lib.colb_policy_observe(h, int(u), int(self._arms[i]), float(rewards[i]))
                if st:
                    raise self._fail(st)
        st = lib.colb_policy_end_round(h)
        self._init_round()
        if st:
            raise self._fail(st)

    def end_round(self):
        """End the open round without (further) observations: the users
        served but not observed get no feedback this round. The library
        decides whether a round is open (StateError if none), so a round
        that an exception (Ctrl-C) interrupted as it opened can be ended."""
        h = self._handle()
        st = _lib.lib.colb_policy_end_round(h)
        self._init_round()
        if st:
            raise self._fail(st)

    # ---- state -------------------------------------------------------------

    def theta(self, user=None):
        """The policy's estimate of user ``user``'s parameter, a (d,) float64
        array; with no user, every user's, an (N, d) array."""
        h = self._handle()
        if user is None:
            return np.stack([self.theta(u) for u in range(self._n)]) if self._n else \
                np.empty((0, self._dim))
        u = _lib.integer(user, "theta: user")
        if not 0 <= u < self._n:
            raise errors.OutOfRange(f"theta: user {_lib.shown(u)} out of range [0, {self._n})")
        out = np.empty(self._dim, dtype=_F64)
        st = _lib.lib.colb_policy_user_theta(h, u, out.ctypes.data)
        if st:
            raise _lib.error(st, f"theta: policy '{self._name}' keeps no per-user estimate"
                             if st == _UNSUP else "")
        return out

    def clusters(self):
        """The clusters the policy currently uses: an int array of N labels
        in [0, number of clusters). Raises Unsupported for policies that do
        not cluster users."""
        h = self._handle()
        labels = np.empty(self._n, dtype=_INTP)
        n = ctypes.c_size_t()
        st = _lib.lib.colb_policy_clusters(h, labels.ctypes.data, ctypes.byref(n))
        if st:
            raise _lib.error(st, f"clusters: policy '{self._name}' does not cluster users"
                             if st == _UNSUP else "")
        return labels

    def add_users(self, n, labels=None):
        """Add n users (numbered N..N+n-1) between rounds; ``labels``: their
        true clusters (the oracle needs them). Returns the new N. n is an
        integer (TypeError for a float or a str) in [0, 2**64)
        (colb.OutOfRange outside it)."""
        h = self._handle()
        n = _lib.size(n, "add_users: n")
        keep = None if labels is None else _indices(labels, "labels", n, 2 ** 62)
        st = _lib.lib.colb_policy_add_users(h, n, None if keep is None else keep.ctypes.data)
        if st:
            raise self._fail(st)
        self._size_buffers()
        return self._n

    def set_max_memory(self, max_memory):
        """Set the memory budget for what the policy allocates from now on:
        bytes, as an integer or a size such as ``"512M"`` (``max_memory`` of
        the constructor; 0: the library's default, 80 % of the available
        memory). :meth:`add_users` beyond it raises OutOfMemory and leaves
        the policy as it was, as does a round of more arms than any before
        (a set budget holds the policy's memory and its round's together);
        what the policy holds already is kept. A
        snapshot does not store the budget: a policy from :meth:`load` or
        :meth:`from_bytes` has the default until it is set here."""
        h = self._handle()
        pp, buf = _lib.buffer(_lib.lib.colb_policy_params_size()), ctypes.create_string_buffer(64)
        _lib.lib.colb_policy_params_default(pp)
        params.apply(_lib.lib.colb_policy_params_set, pp, [("max_memory", max_memory)], ("policy",))
        _lib.lib.colb_policy_params_get(pp, b"max-memory", buf, 64)
        st = _lib.lib.colb_policy_set_max_memory(h, int(buf.value))
        if st:
            raise self._fail(st)

    # ---- persistence ---------------------------------------------------------

    def save(self, path):
        """Save the policy (between rounds) to ``path``: atomic and
        checksummed (docs/format.md); :meth:`load` restores it bit for bit."""
        msg = _lib.msg_buffer()
        st = _lib.lib.colb_policy_save(self._handle(), _lib.c_str(os.fsencode(path), "path"), msg, _lib.MSG_LEN)
        if st:
            raise _lib.error(st, msg.value)

    @classmethod
    def load(cls, path, memory_budget=None):
        """A policy saved by :meth:`save`. Raises ParseError, Unsupported,
        InputOutputError, OutOfMemory with the library's message."""
        h, msg = ctypes.c_void_p(), _lib.msg_buffer()
        st = _lib.lib.colb_policy_load(_lib.c_str(os.fsencode(path), "path"), _load_options(memory_budget),
                                       ctypes.byref(h), msg, _lib.MSG_LEN)
        if st:
            raise _lib.error(st, msg.value)
        return cls._from_handle(h.value, _dim_of(h.value))

    def to_bytes(self):
        """The snapshot of :meth:`save` as bytes."""
        h, msg, n = self._handle(), _lib.msg_buffer(), ctypes.c_size_t()
        st = _lib.lib.colb_policy_save_buffer(h, None, 0, ctypes.byref(n), msg, _lib.MSG_LEN)
        if st and st != _RANGE:
            raise _lib.error(st, msg.value)
        buf = ctypes.create_string_buffer(n.value)
        st = _lib.lib.colb_policy_save_buffer(h, buf, n.value, ctypes.byref(n), msg, _lib.MSG_LEN)
        if st:
            raise _lib.error(st, msg.value)
        return buf.raw[:n.value]

    @classmethod
    def from_bytes(cls, data, memory_budget=None):
        """A policy from the bytes of :meth:`to_bytes` (any bytes-like object)."""
        try:
            data = bytes(memoryview(data))  # bytes(n) of an int n would be n zero bytes
        except TypeError:
            raise TypeError(f"from_bytes: expected a bytes-like object (the bytes of to_bytes), "
                            f"got {type(data).__name__}") from None
        h, msg = ctypes.c_void_p(), _lib.msg_buffer()
        st = _lib.lib.colb_policy_load_buffer(data, len(data), _load_options(memory_budget),
                                              ctypes.byref(h), msg, _lib.MSG_LEN)
        if st:
            raise _lib.error(st, msg.value)
        return cls._from_handle(h.value, _dim_of(h.value))

    def __reduce__(self):  # pickle through the snapshot format
        return (Policy.from_bytes, (self.to_bytes(),))

    # ---- properties and lifetime ------------------------------------------------

    name = property(lambda self: self._name, doc="The policy's name.")
    dim = property(lambda self: self._dim, doc="The context dimension d.")
    users = property(lambda self: self._n, doc="The number of users N.")
    sequential = property(lambda self: self._sequential,
                          doc="True if the policy updates in observe, user by user (CLUB).")

    @property
    def choices_leave_no_state(self):
        """True if a round's choices change nothing that outlives the round
        (the recommended policy): a log that rebuilds the policy may keep
        only the contexts chosen and replay each such round without its
        choices (begin and end), as colb serve's compact records do."""
        return bool(_lib.lib.colb_policy_choices_leave_no_state(self._handle()))

    @property
    def rounds(self):
        """Completed rounds."""
        return int(_lib.lib.colb_policy_rounds(self._handle()))

    @property
    def options(self):
        """The parameters in force, {option name: value}, as the library
        holds them (also those of a loaded policy)."""
        pp, buf = _lib.lib.colb_policy_params_of(self._handle()), ctypes.create_string_buffer(64)
        out = {}
        for o in params.options()["policy"]:
            _lib.lib.colb_policy_params_get(pp, o.key.encode(), buf, 64)
            out[o.name] = params.value(o.type, buf.value.decode())
        return out

    @property
    def info(self):
        """A line about the policy's state (e.g. CMLB's clusters), or ''."""
        return _lib.lib.colb_policy_info(self._handle()).decode()

    def close(self):
        """Free the policy now (also done when it is garbage-collected)."""
        h, self._h = self._h, None
        if h:
            _lib.lib.colb_policy_free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self):
        if not self._h:
            return f"<colb.Policy {self._name!r} closed>"
        return (f"<colb.Policy {self._name!r} users={self._n} dim={self._dim} "
                f"rounds={self.rounds}>")


_UNSUP = _lib.CODE["COLB_EUNSUP"]
_RANGE = _lib.CODE["COLB_ERANGE"]
_NUMERIC = _lib.CODE["COLB_ENUMERIC"]


class _LoadOptions(ctypes.Structure):
    """colb_load_options of colb/snapshot.h."""
    _fields_ = [("memory_budget", ctypes.c_size_t), ("dataset", ctypes.c_void_p)]


def _load_options(budget):
    if budget is None:  # the library's default budget (0 in C)
        return None
    return ctypes.byref(_LoadOptions(_lib.size(budget, "memory_budget (None for the default)", 1),
                                     None))


def _dim_of(handle):
    """The dimension of a policy, from its parameters in force."""
    out = ctypes.create_string_buffer(32)
    _lib.lib.colb_policy_params_get(_lib.lib.colb_policy_params_of(handle), b"dim", out, 32)
    return int(out.value)
