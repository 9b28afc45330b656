"""The exceptions of colb: one class per status code of the C library.

Every failed call of libcolb returns a status (``colb/status.h``) and leaves
a message naming what was wrong; the binding raises the class of that status
with that message.  Each class also derives from the closest built-in
exception, so ``except ValueError`` catches a bad argument as usual::

    Error                   any colb error (attributes: status, status_name)
    InvalidArgument         COLB_EINVAL     ValueError
    OutOfMemory             COLB_ENOMEM     MemoryError
    NonFinite               COLB_ENONFIN    ValueError   (NaN or Inf)
    OutOfRange              COLB_ERANGE     ValueError
    StateError              COLB_ESTATE     RuntimeError (call out of order)
    InputOutputError        COLB_EIO        OSError
    ParseError              COLB_EPARSE     ValueError   (malformed file)
    NotFound                COLB_ENOTFOUND  LookupError  (unknown name or key)
    NumericalError          COLB_ENUMERIC   ArithmeticError
    Unsupported             COLB_EUNSUP     NotImplementedError
    Interrupted             COLB_EINTR      RuntimeError

The binding's own checks of numpy arrays (shape, dtype, layout) raise
InvalidArgument, like the library's own checks of its arguments.
"""


class Error(Exception):
    """A failed colb call.

    Attributes:
        status: the library's status code (int); for the binding's own
            checks, the code of the class (None for a bare Error).
        status_name: its symbolic name, e.g. ``"COLB_EINVAL"``.
    """

    status_name = None
    _code = None  # the class's status code, set by _lib from the library's names

    def __init__(self, message, status=None):
        super().__init__(message)
        # raised by the binding's own checks, the class's code
        self.status = status if status is not None else type(self)._code


class InvalidArgument(Error, ValueError):
    """An argument of the wrong kind, shape or value (COLB_EINVAL)."""
    status_name = "COLB_EINVAL"


class OutOfMemory(Error, MemoryError):
    """Over the memory budget, or out of memory (COLB_ENOMEM)."""
    status_name = "COLB_ENOMEM"


class NonFinite(Error, ValueError):
    """A NaN or an infinity where a finite number is needed (COLB_ENONFIN)."""
    status_name = "COLB_ENONFIN"


class OutOfRange(Error, ValueError):
    """A number or index outside its range (COLB_ERANGE)."""
    status_name = "COLB_ERANGE"


class StateError(Error, RuntimeError):
    """A call out of order for the object's state (COLB_ESTATE)."""
    status_name = "COLB_ESTATE"


class InputOutputError(Error, OSError):
    """A file could not be read or written (COLB_EIO)."""
    status_name = "COLB_EIO"


class ParseError(Error, ValueError):
    """Malformed input, e.g. a corrupt snapshot (COLB_EPARSE)."""
    status_name = "COLB_EPARSE"


class NotFound(Error, LookupError):
    """An unknown policy, option or object (COLB_ENOTFOUND)."""
    status_name = "COLB_ENOTFOUND"


class NumericalError(Error, ArithmeticError):
    """A numerical failure; the policy is fenced (COLB_ENUMERIC)."""
    status_name = "COLB_ENUMERIC"


class Unsupported(Error, NotImplementedError):
    """Not supported by this policy or object (COLB_EUNSUP)."""
    status_name = "COLB_EUNSUP"


class Interrupted(Error, RuntimeError):
    """Stopped on request (COLB_EINTR)."""
    status_name = "COLB_EINTR"


#: every class by its status name
BY_NAME = {c.status_name: c for c in (
    InvalidArgument, OutOfMemory, NonFinite, OutOfRange, StateError, InputOutputError,
    ParseError, NotFound, NumericalError, Unsupported, Interrupted)}
