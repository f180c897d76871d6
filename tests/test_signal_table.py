"""The generated gain/stability table behind `xact list` and the attribute docstrings.

Each entry is recomputed here; a failure means the catalogue changed: run
`python -m xact.signal.table` to regenerate xact/signal/_table_data.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import xact
from xact.signal._table_data import SIGNAL
from xact.signal.table import compute, doc_line

REGENERATE = "regenerate with `python -m xact.signal.table`"
CATALOGUE = [n for n in xact.names() if xact.get(n).family != "user"]


def test_table_covers_the_catalogue():
    assert sorted(SIGNAL) == sorted(CATALOGUE), REGENERATE


@pytest.mark.parametrize("name", CATALOGUE)
def test_table_entry_is_current(name):
    g, slope, label = compute(xact.get(name))
    tg, tslope, tlabel = SIGNAL[name]
    assert (tg, tslope, tlabel) == (pytest.approx(g, rel=1e-9), pytest.approx(slope, rel=1e-6, abs=1e-9), label), REGENERATE


def test_table_gains_against_published_values():
    # Independent of the table's own computation: closed forms.
    assert SIGNAL["relu"][0] == pytest.approx(2**0.5, rel=1e-12)
    assert SIGNAL["linear"][0] == pytest.approx(1.0, rel=1e-12)
    assert SIGNAL["leaky_relu"][0] == pytest.approx((2 / (1 + 0.01**2)) ** 0.5, rel=1e-12)
    assert SIGNAL["square"][:2] == (pytest.approx(3**-0.5, rel=1e-12), pytest.approx(2.0, rel=1e-9))


def test_attribute_docstring_has_signal_line():
    import xact.numpy as xnp

    doc = xnp.tanh.__doc__
    assert "Signal: gain 1.59254" in doc and "stable" in doc and "xact.diagnose('tanh')" in doc
    assert "unstable (fixed point q* = 1 repels, slope 2)" in xnp.square.__doc__


def test_user_spec_docstring_has_no_table_line(fresh_name):
    import numpy as np

    import xact.numpy as xnp

    xact.define(fresh_name, fn=lambda x, xp=np: xp.tanh(x), grad=lambda x, xp=np: 1 - xp.tanh(x) ** 2)
    assert doc_line(xact.get(fresh_name)) == ""
    assert "Signal:" not in (getattr(xnp, fresh_name).__doc__ or "")


def test_cli_list_has_gain_column():
    out = subprocess.run([sys.executable, "-m", "xact", "list"], check=True, capture_output=True, text=True).stdout
    header, *rows = out.splitlines()
    assert "gain" in header.split()
    relu = next(r for r in rows if r.startswith("relu "))
    assert "1.4142 neutral" in relu
    assert "0.5774 unstable" in next(r for r in rows if r.startswith("square "))
