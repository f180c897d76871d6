"""xact's own exception types.

Every error xact raises on purpose is one of these, so callers can catch
``xact.XactError`` without catching unrelated framework failures. Each also
derives from the matching builtin (``TypeError``, ``LookupError``,
``ValueError``) so generic handlers keep working. Messages say what to do.
"""

from __future__ import annotations


class XactError(Exception):
    """Base class of every error raised by xact."""

    # Exception's own constructor (the builtins' behave the same): AutoGraph re-raises an
    # error from inside a tf.function as its own type only when the type has it, and as
    # a StagingError otherwise, which `except xact.XactError` would no longer catch.
    __init__ = Exception.__init__


class UnknownActivationError(XactError, LookupError):
    """No activation is registered under the requested name."""

    def __str__(self) -> str:  # LookupError would repr() the message
        return str(self.args[0]) if self.args else ""


class DuplicateActivationError(XactError, ValueError):
    """A name (or alias) is already registered and replace=True was not given."""


class SpecError(XactError, ValueError):
    """A spec is malformed: bad signature, bad parameters, wrong gradient arity."""


class XactTypeError(XactError, TypeError):
    """An input has a dtype or type that the activation cannot take."""


class ParameterError(XactError, TypeError):
    """A call passed a parameter the activation does not take, or a bad value."""


class ModeError(XactError, ValueError):
    """The requested execution mode cannot run this spec (e.g. native without ``xp``)."""


class ConformanceError(XactError, AssertionError):
    """Raised by ``xact.testing.assert_conforms`` with a readable diff."""


class XactWarning(UserWarning):
    """A spec or call that works but probably does not do what was meant."""


class DiagnosisError(XactError, ValueError):
    """A spec cannot be diagnosed: phi is NaN somewhere on the line, or its moments vanish or overflow."""


class DivergenceError(XactError, FloatingPointError):
    """A watched activation's output or incoming gradient went non-finite or past the threshold."""
