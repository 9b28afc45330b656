"""The options of policies, environments and runs, as the library lists them
(colb/params.h): the same names as the options of ``colb run``, written
with underscores in Python (``cmlb_alpha`` is ``--cmlb-alpha``)."""

import collections
import ctypes
import functools

import numpy

from . import _lib, errors

Option = collections.namedtuple("Option", "name key type default choices min max help")
Option.__doc__ = """One option.

    name     the Python keyword (``cmlb_alpha``)
    key      the library's and colb run's name (``cmlb-alpha``)
    type     'int', 'real', 'bool', 'choice' or 'bytes'
    default  the default as a Python value (None: must be given)
    choices  the names a 'choice' takes (tuple), else ()
    min, max the inclusive range of an 'int' or 'real', else None
    help     one line
"""


def key_of(name):
    """The library key of a Python keyword: underscores become dashes."""
    return name.replace("_", "-")


def once(names, where):
    """Raise InvalidArgument when two of the keyword names (``lambda_``,
    ``cmlb_alpha``, or ``**{"cmlb-alpha": ...}``) name the same option: the
    later would silently override the earlier (``colb run`` refuses an
    option given twice)."""
    seen = {}
    for n in names:
        k = key_of(n[:-1] if n == "lambda_" else n)
        if k in seen:
            raise errors.InvalidArgument(f"{where}: option '{k}' is given twice ({seen[k]!r} and {n!r}); "
                                         "give each option once")
        seen[k] = n


def value(type_name, text):
    """The text of a key of type type_name as a Python value (None for "")."""
    if text == "":
        return None
    if type_name in ("int", "bytes"):
        return int(text)
    if type_name == "real":
        return float(text)
    if type_name == "bool":
        return text == "1"
    return text


def _listing(count, info):
    out = []
    pi = _lib.ParamInfo()
    for i in range(count()):
        st = info(i, ctypes.byref(pi))
        if st:
            raise _lib.error(st, "")
        key, tname = pi.key.decode(), pi.type_name.decode()
        numeric = tname in ("int", "real")
        out.append(Option(
            name=key.replace("-", "_"), key=key, type=tname,
            default=value(tname, pi.default_value.decode()),
            choices=tuple(pi.choices.decode().split("|")) if tname == "choice" else (),
            min=(int(pi.min) if tname == "int" else pi.min) if numeric else None,
            # a double cannot hold 2^64 - 1 (a seed's maximum): it rounds up
            max=(min(int(pi.max), 2 ** 64 - 1) if tname == "int" else pi.max) if numeric else None,
            help=pi.help.decode()))
    return out


def policy_names():
    """The names of the policies compiled into the library, in its order."""
    names, arr, i = [], _lib.lib.colb_policy_names(), 0
    while arr[i] is not None:
        names.append(arr[i].decode())
        i += 1
    return names


def policies():
    """Every policy with the options it reads.

    Returns a dict ``{name: {option_name: Option}}`` in the library's order.
    ``users`` and ``dim`` (every policy needs them) are the positional
    arguments of :class:`colb.Policy` and are not repeated here.  A policy
    accepts every policy option (as ``colb run`` does); those it does not
    list leave it unchanged.
    """
    every = _listing(_lib.lib.colb_policy_param_count, _lib.lib.colb_policy_param_info)
    out = {}
    for name in policy_names():
        out[name] = {o.name: o for o in every if o.key not in ("users", "dim")
                     and _lib.lib.colb_policy_param_used(name.encode(), o.key.encode()) == 1}
    return out


# The policy options whose default in colb.simulate (as in ``colb run``)
# is not the library's: the paper's OFUL confidence, and one fixed width
# for every policy (docs/results.md, "The default width").
SIMULATE_DEFAULTS = {"delta": 0.4, "width": "fixed", "alpha": 0.25}


def options(simulate=False):
    """Every option of :func:`colb.simulate` and :class:`colb.Policy`, by kind.

    Returns ``{'run': [...], 'environment': [...], 'policy': [...]}``, lists of
    :class:`Option`.  :func:`colb.simulate` takes all three kinds (``users``,
    ``dim`` and ``seed`` there are the environment's and the run's);
    :class:`colb.Policy` takes the policy options.  The defaults are the
    library's, which :class:`colb.Policy` uses; with ``simulate=True`` those
    that :func:`colb.simulate` sets otherwise (``SIMULATE_DEFAULTS``, as
    ``colb run`` does) are its own.
    """
    policy = _listing(_lib.lib.colb_policy_param_count, _lib.lib.colb_policy_param_info)
    if simulate:
        policy = [o._replace(default=SIMULATE_DEFAULTS[o.name]) if o.name in SIMULATE_DEFAULTS else o
                  for o in policy]
    return {
        "run": _listing(_lib.lib.colb_sim_param_count, _lib.lib.colb_sim_param_info),
        "environment": _listing(_lib.lib.colb_env_param_count, _lib.lib.colb_env_param_info),
        "policy": policy,
    }


def suggest(key, kinds=("policy",), own=()):
    """' (did you mean ...?)' for a misspelled key, or '': the closest of
    the options of ``kinds`` and of the caller's own parameters ``own``
    (``simulate``'s ``policies``, ``club_tune``, ...; ``Policy``'s
    ``labels``), as ``colb run`` suggests the closest of all its options."""
    import difflib
    every = options()
    names = [o.name for k in kinds for o in every[k]]
    names += [n for n in own if n not in names]
    close = difflib.get_close_matches(key.replace("-", "_"), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.lru_cache(maxsize=None)
def _types():
    """Every key of every kind -> its type name ('int', 'real', ...)."""
    return {o.key: o.type for kind in options().values() for o in kind}


_EXPECTED = {"int": "an integer", "bytes": "an integer (or a size such as '64M')",
             "real": "a number"}
# the types whose values are numbers only: text is refused (a size of type
# "bytes" may be written "64M")
_NUMBERS_ONLY = ("int", "real")


def apply(setter, params, items, kinds, own=()):
    """Set every (python_name, value) of items with setter(params, key, text,
    msg, len); a refused option raises with the library's message, and an
    unknown one (NotFound) with the closest name of ``kinds`` and ``own``
    (the caller's own parameters, see :func:`suggest`).

    A bool is taken only by a boolean option: for a number (``users=True``)
    it raises InvalidArgument, as a masked array does for any option. A str
    (or bytes) for an integer or a real option (``users='5'``) raises
    TypeError, as a str does for every count of the binding: numbers are
    never parsed from text here. A 0-d numpy array is taken as the scalar
    it holds (``numpy.array(0.25)`` as 0.25), with the same checks.

    As in ``colb run`` (cli/options.c), ``club-alpha`` also sets
    ``club-own-alpha`` to 1 (CLUB's own alpha is an override that the
    library's key alone leaves unused) unless ``club-own-alpha`` is among
    the items: given, it decides, before or after ``club-alpha``."""
    msg = _lib.msg_buffer()
    items = list(items)
    own_given = any(key_of(name) == "club-own-alpha" for name, _ in items)
    for name, value in items:
        key = key_of(name)
        _lib.refuse_masked(value, name)
        value = _lib.scalar(value)  # a 0-d array as the scalar it holds
        kind = _types().get(key)
        expected = _EXPECTED.get(kind)
        if expected and isinstance(value, (bool, numpy.bool_)):
            raise errors.InvalidArgument(f"{name}: {value!r} is a bool, expected {expected}")
        if kind in _NUMBERS_ONLY and isinstance(value, (str, bytes)):
            raise TypeError(f"{name}: expected {expected}, got {type(value).__name__} {value!r}")
        # an unknown name is told as such whatever its value (the library's
        # message and a suggestion), before the value is read as text
        value_text = _lib.text(value, name) if kind is not None else "0"
        st = setter(params, _lib.c_str(key, "option"), _lib.c_str(value_text, f"option {name}"), msg,
                    _lib.MSG_LEN)
        if st:
            extra = suggest(name, kinds, own) if st == _lib.CODE["COLB_ENOTFOUND"] else ""
            raise _lib.error(st, msg.value.decode(errors="replace") + extra)
        if key == "club-alpha" and not own_given:
            st = setter(params, b"club-own-alpha", b"1", msg, _lib.MSG_LEN)
            if st:
                raise _lib.error(st, msg.value)

