"""Figures of one solution or reference file, with or without a comparison: ``neuralpde plot``.

:func:`plot_figure` draws a :class:`matplotlib.figure.Figure` (the Agg canvas, never ``pyplot``,
so no global plotting state is touched) and :func:`plot_file` writes it as a PNG file:

* one space dimension, steady: the curve ``u(x)``;
* one space dimension and time: an x-t map, time on the vertical axis;
* two space dimensions, steady: a colour map over the domain;
* two space dimensions and time: colour maps at a few times (default four, evenly spaced from the
  first to the last), one panel each, on one colour scale;
* three or more space dimensions: slices, one panel each (default: through the middle of each
  axis), the plane of the first two other space axes, any further axes at their middle.

Points outside a domain that is not a box are blank: the files hold NaN there, and a field
evaluated off the file's grid (a slice or a time between its nodes) is masked by the domain its
file describes (:func:`neuralpde.reference.nodes_inside`). With ``exact=True`` (the exact
solution a solution file stores on its grid) or ``reference=REF`` (a reference file: the network
is evaluated at its nodes) the pointwise error ``|u - u_ref|`` is drawn beside the field, on a
logarithmic colour scale; a problem fixed only up to a constant is compared with both means
removed, as :func:`neuralpde.validate.validate` does. The panels of a comparison lie on the
compared grid: a slice or time between its nodes is taken at the nearest node, and the panel's
title gives the value used.
"""

from __future__ import annotations

from ._figure import plot_figure, plot_file
from ._options import (
    MAX_DPI,
    MAX_PANELS,
    PlotArgumentError,
    default_output,
    parse_slice,
    parse_times,
)

__all__ = [
    "MAX_PANELS",
    "MAX_DPI",
    "PlotArgumentError",
    "default_output",
    "parse_slice",
    "parse_times",
    "plot_figure",
    "plot_file",
]
