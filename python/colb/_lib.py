"""Loading libcolb.so and declaring the C functions the binding calls.

The library is looked for, in this order:

1. the path in the environment variable ``COLB_LIBRARY``;
2. next to this package (``colb/libcolb.so``: what ``pip install ./python``
   puts there);
3. the library folder recorded by ``make install`` (``colb/_install.py``);
4. the build folder of a source checkout (``../build/libcolb.so`` beside
   ``python/``), so that ``PYTHONPATH=python`` works right after ``make``;
5. the system's loader (``libcolb.so.0`` on its search path).

Everything here is private; the public API is in ``colb``.
"""

import ctypes
import decimal
import math
import numbers
import operator
import os

import numpy

from . import errors

_HERE = os.path.dirname(os.path.abspath(__file__))

c_size_p = ctypes.POINTER(ctypes.c_size_t)
vp = ctypes.c_void_p
sz = ctypes.c_size_t
cp = ctypes.c_char_p
MSG_LEN = 1024


def _candidates():
    env = os.environ.get("COLB_LIBRARY")
    if env:
        return [("COLB_LIBRARY", env)]
    out = []
    for name in sorted(os.listdir(_HERE)):
        if name.startswith("libcolb.so"):
            out.append(("next to the package", os.path.join(_HERE, name)))
    try:
        from . import _install  # written by make install
        out.append(("make install", os.path.join(_install.LIBDIR, "libcolb.so.0")))
    except ImportError:
        pass
    out.append(("the build folder", os.path.normpath(os.path.join(_HERE, "..", "..", "build",
                                                                    "libcolb.so"))))
    out.append(("the system loader", "libcolb.so.0"))
    return out


def _load():
    tried = []
    for where, path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} ({where}: no such file)")
            continue
        try:
            return ctypes.CDLL(path), os.path.abspath(path) if os.sep in path else path
        except OSError as e:
            tried.append(f"{path} ({where}: {e})")
    raise ImportError("colb: cannot load libcolb.so; build it with `make` (then use "
                      "PYTHONPATH=python) or set COLB_LIBRARY to its path. Tried: "
                      + "; ".join(tried))


lib, path = _load()

# name: (restype, argtypes)
_PROTOS = {
    "colb_strerror": (cp, [ctypes.c_int]),
    "colb_status_name": (cp, [ctypes.c_int]),
    "colb_mean_ci95": (None, [vp, sz, ctypes.POINTER(ctypes.c_double),
                              ctypes.POINTER(ctypes.c_double)]),
    # parameters by name (colb/params.h)
    "colb_policy_params_size": (sz, []),
    "colb_policy_params_default": (None, [vp]),
    "colb_policy_params_set": (ctypes.c_int, [vp, cp, cp, vp, sz]),
    "colb_policy_params_get": (ctypes.c_int, [vp, cp, vp, sz]),
    "colb_policy_params_set_clusters": (ctypes.c_int, [vp, vp, sz]),
    "colb_policy_param_count": (sz, []),
    "colb_policy_param_info": (ctypes.c_int, [sz, vp]),
    "colb_policy_param_used": (ctypes.c_int, [cp, cp]),
    "colb_policy_params_of": (vp, [vp]),
    "colb_env_param_count": (sz, []),
    "colb_env_param_info": (ctypes.c_int, [sz, vp]),
    "colb_env_param_used": (ctypes.c_int, [cp, cp]),
    "colb_sim_spec_size": (sz, []),
    "colb_sim_spec_default": (None, [vp]),
    "colb_sim_spec_set": (ctypes.c_int, [vp, cp, cp, vp, sz]),
    "colb_sim_spec_get": (ctypes.c_int, [vp, cp, vp, sz]),
    "colb_sim_spec_set_policies": (ctypes.c_int, [vp, vp, sz]),
    "colb_sim_spec_param_read": (ctypes.c_int, [vp, cp, ctypes.c_uint]),
    "colb_sim_param_count": (sz, []),
    "colb_sim_param_info": (ctypes.c_int, [sz, vp]),
    # policies (colb/policy.h, colb/snapshot.h)
    "colb_policy_names": (ctypes.POINTER(cp), []),
    "colb_policy_resolve": (cp, [cp]),
    "colb_policy_create": (ctypes.c_int, [cp, vp, ctypes.POINTER(vp), vp, sz]),
    "colb_policy_free": (None, [vp]),
    "colb_policy_name": (cp, [vp]),
    "colb_policy_is_sequential": (ctypes.c_int, [vp]),
    "colb_policy_choices_leave_no_state": (ctypes.c_int, [vp]),
    "colb_policy_users": (sz, [vp]),
    "colb_policy_rounds": (ctypes.c_uint64, [vp]),
    "colb_policy_info": (cp, [vp]),
    "colb_policy_last_error": (cp, [vp]),
    "colb_policy_begin_round": (ctypes.c_int, [vp, vp, sz]),
    "colb_policy_choose": (ctypes.c_int, [vp, sz, vp]),
    "colb_policy_choose_all": (ctypes.c_int, [vp, vp]),
    "colb_policy_observe": (ctypes.c_int, [vp, sz, sz, ctypes.c_double]),
    "colb_policy_observe_all": (ctypes.c_int, [vp, vp, vp]),
    "colb_policy_end_round": (ctypes.c_int, [vp]),
    "colb_policy_user_theta": (ctypes.c_int, [vp, sz, vp]),
    "colb_policy_clusters": (ctypes.c_int, [vp, vp, c_size_p]),
    "colb_policy_add_users": (ctypes.c_int, [vp, sz, vp]),
    "colb_policy_set_max_memory": (ctypes.c_int, [vp, sz]),
    "colb_policy_save": (ctypes.c_int, [vp, cp, vp, sz]),
    "colb_policy_save_buffer": (ctypes.c_int, [vp, vp, sz, c_size_p, vp, sz]),
    "colb_policy_load": (ctypes.c_int, [cp, vp, ctypes.POINTER(vp), vp, sz]),
    "colb_policy_load_buffer": (ctypes.c_int, [vp, sz, vp, ctypes.POINTER(vp), vp, sz]),
    # the simulator (colb/sim.h, colb/tune.h)
    "colb_sim_create": (ctypes.c_int, [vp, ctypes.POINTER(vp), vp, sz]),
    "colb_sim_advance": (ctypes.c_int, [vp, sz, vp, sz]),
    "colb_sim_finished": (ctypes.c_int, [vp]),
    "colb_sim_results": (vp, [vp]),
    "colb_sim_free": (None, [vp]),
    "colb_sim_result_policies": (sz, [vp]),
    "colb_sim_result_repeats": (sz, [vp]),
    "colb_sim_result_points": (sz, [vp]),
    "colb_sim_result_point_round": (sz, [vp, sz]),
    "colb_sim_result_regret": (ctypes.c_double, [vp, sz, sz, sz]),
    "colb_sim_result_wall": (ctypes.c_double, [vp, sz, sz]),
    "colb_sim_result_info": (cp, [vp, sz, sz]),
    "colb_club_tune": (ctypes.c_int, [vp, vp, sz, vp, sz, sz, sz, ctypes.POINTER(ctypes.c_double),
                                      ctypes.POINTER(ctypes.c_double), vp, sz]),
    # files (colb/file.h)
    "colb_file_write": (ctypes.c_int, [cp, cp, sz, vp, sz]),
}

for _name, (_res, _args) in _PROTOS.items():
    try:
        _f = getattr(lib, _name)
    except AttributeError:
        raise ImportError(f"colb: {path} has no {_name}: it is older than this package; "
                          "rebuild it with `make`") from None
    _f.restype = _res
    _f.argtypes = _args


class ParamInfo(ctypes.Structure):
    """colb_param_info of colb/params.h."""
    _fields_ = [("key", cp), ("type", ctypes.c_int), ("type_name", cp), ("choices", cp),
                ("min", ctypes.c_double), ("max", ctypes.c_double),
                ("default_value", ctypes.c_char * 32), ("help", cp)]


# status code -> exception class, through the library's own names
_BY_CODE = {}
for _code in range(1, 64):
    _sname = lib.colb_status_name(_code).decode()
    if _sname == "COLB_UNKNOWN":
        break
    _BY_CODE[_code] = errors.BY_NAME.get(_sname, errors.Error)
    if _BY_CODE[_code] is not errors.Error:  # the code the binding's own raises carry
        _BY_CODE[_code]._code = _code


#: status name -> code, e.g. CODE["COLB_EUNSUP"]
CODE = {cls.status_name: code for code, cls in _BY_CODE.items()}


def error(status, message):
    """The exception for a failed call: its status's class and message."""
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    if not text:
        text = lib.colb_strerror(status).decode()
    return _BY_CODE.get(status, errors.Error)(text, status)


def msg_buffer():
    return ctypes.create_string_buffer(MSG_LEN)


def buffer(nbytes):
    """A zeroed, 8-byte aligned buffer of at least nbytes (for C structs)."""
    return (ctypes.c_uint64 * ((nbytes + 7) // 8))()


def scalar(value):
    """The element of a 0-d numpy array (``numpy.array(0.25)`` is
    ``numpy.float64(0.25)``), else value itself: where a scalar is taken, a
    0-d array is read as the numpy scalar it holds, with that scalar's
    checks and messages. A masked one is left as it is (its callers refuse
    it first: :func:`refuse_masked`)."""
    if (isinstance(value, numpy.ndarray) and value.ndim == 0
            and not isinstance(value, numpy.ma.MaskedArray)):
        return value[()]
    return value


def integer(value, what):
    """value as a Python int: anything with __index__ (a numpy integer too),
    never a bool, a float or a str (TypeError naming `what`), never
    truncated; a masked value is refused (:func:`refuse_masked`), whose
    __index__ would give its data, masked or not."""
    refuse_masked(value, what)
    value = scalar(value)
    if isinstance(value, (bool, numpy.bool_)):  # bool has __index__: True would be 1
        raise TypeError(f"{what}: expected an integer, got bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what}: expected an integer, got {type(value).__name__} "
                        f"{value!r}") from None


def shown(n):
    """An integer for a message: its digits, or its size when it has too
    many to print (Python refuses str() of more than 4300 digits)."""
    return str(n) if n.bit_length() <= 256 else f"an integer of {n.bit_length()} bits"


def size(value, what, lo=0):
    """value as a C size_t: an integer (:func:`integer`) within [lo, 2**64),
    else colb.OutOfRange; never wrapped around or truncated as ctypes would."""
    n = integer(value, what)
    if not lo <= n < 2 ** 64:
        raise errors.OutOfRange(f"{what}: {shown(n)} is out of range [{lo}, 2**64)")
    return n


def c_str(s, what):
    """s (a str, or bytes / a path for os.fsencode'd names) as the bytes of a
    C string; an embedded NUL byte, which C would cut the string at, is
    refused as Python's own open() does, and so is a str that UTF-8 cannot
    encode (a lone surrogate)."""
    try:
        b = s if isinstance(s, bytes) else str(s).encode()
    except UnicodeEncodeError as e:
        raise errors.InvalidArgument(f"{what}: {s!r} is not valid Unicode ({e.reason} at position "
                                     f"{e.start})") from None
    if b"\0" in b:
        raise errors.InvalidArgument(f"{what}: embedded null byte in {s!r}")
    return b


def refuse_masked(value, what):
    """Raise InvalidArgument for a numpy masked array (or masked value): the
    library sees only the data, so the mask would be dropped silently."""
    if isinstance(value, numpy.ma.MaskedArray):
        raise errors.InvalidArgument(
            f"{what}: a numpy masked array or value; colb does not read masks (the masked entries would "
            f"be used as they are): pass the entries to use, e.g. numpy.ma.compressed or "
            f"numpy.ma.filled")


def text(value, what="option value"):
    """A Python value as the text of colb/params.h: bools as 1/0, floats by
    their shortest repr (which reads back as the same double). An integer
    of 2**64 or more in size is beyond every option's range: OutOfRange.
    A 0-d array is its element (:func:`scalar`)."""
    refuse_masked(value, what)
    value = scalar(value)
    if isinstance(value, (bool, numpy.bool_)):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        n = int(value)
        if abs(n) >= 2 ** 64:
            raise errors.OutOfRange(f"{what}: {shown(n)} is out of range (below 2**64)")
        return str(n)
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        try:  # a Fraction or Decimal beyond a double, or a signalling NaN
            f = float(value)
            if f in (math.inf, -math.inf) and isinstance(value, decimal.Decimal) and value.is_finite():
                raise OverflowError  # float() of a Decimal beyond it is inf, not an error
            return repr(f)
        except (OverflowError, ValueError):
            raise errors.OutOfRange(f"{what}: a {type(value).__name__} beyond the range of a double "
                                   f"(about 1.8e308), or not a number a double can hold") from None
    raise errors.InvalidArgument(f"{what}: {value!r} is not a number, bool or string")
