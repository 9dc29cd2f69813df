"""Figure hygiene, inspected as the notebooks draw (loaded into the test kernel).

``install()`` wraps matplotlib's ``FigureCanvasBase.print_figure``, the call every
inline display of a figure goes through (``plt.show()``, ``display(fig)``, widget
outputs), and records what a reader could not read:

- an axis with data but no label (shared axes count as labelled when a sibling
  is; categorical tick labels and hidden ticks count as labels);
- several labelled series in one axes and no legend;
- a heatmap (scalar ``imshow`` / ``pcolormesh``) without a colour bar.

Diagrams (figures marked by ``rnncourse.viz.diagrams``) opt out. ``report()``
returns the problems found so far, one line each.
"""

import matplotlib.axis
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.collections import QuadMesh
from matplotlib.ticker import FixedFormatter, NullFormatter, StrMethodFormatter
from matplotlib.category import StrCategoryFormatter

PROBLEMS: list[str] = []
_SEEN: set = set()


def _is_diagram(fig) -> bool:
    return bool(getattr(fig, "_rnncourse_diagram", False))


def _axis_labelled(ax, which: str) -> bool:
    axis = ax.xaxis if which == "x" else ax.yaxis
    if axis.get_label_text().strip():
        return True
    if not axis.get_visible() or not len(axis.get_majorticklocs()):
        return True
    formatter = axis.get_major_formatter()
    if isinstance(formatter, (StrCategoryFormatter, FixedFormatter, NullFormatter)):
        return True
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    for sibling in shared.get_siblings(ax):
        other = sibling.xaxis if which == "x" else sibling.yaxis
        if other.get_label_text().strip():
            return True
    if ax.figure is not None and (getattr(ax.figure, "_supxlabel" if which == "x" else "_supylabel", None)):
        return True
    return False


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.images or ax.patches or ax.containers)


def _labelled_series(ax) -> list[str]:
    artists = list(ax.lines) + list(ax.collections) + list(ax.containers) + list(ax.patches)
    labels = []
    for artist in artists:
        label = artist.get_label() if hasattr(artist, "get_label") else None
        if label and not label.startswith("_") and label not in labels:
            labels.append(label)
    return labels


def _is_colorbar_axes(ax) -> bool:
    return hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>"


def _heatmaps(ax) -> list:
    """Images of scalar data (not RGB pictures) and pcolormesh grids."""
    found = [im for im in ax.images if im.get_array() is not None and im.get_array().ndim == 2]
    return found + [c for c in ax.collections if isinstance(c, QuadMesh)]


def _scale(mappable):
    return (mappable.get_cmap().name, mappable.norm.vmin, mappable.norm.vmax)


def inspect(fig) -> list[str]:
    """The hygiene problems of one figure (empty for diagrams and clean figures)."""
    if _is_diagram(fig):
        return []
    found = []
    # a colour bar shared by several heatmaps (fig.colorbar(im, ax=axes)) belongs to one of
    # them; the others are covered when they use the same colour map and limits
    shared = {_scale(m) for ax in fig.axes for m in _heatmaps(ax)
              if getattr(m, "colorbar", None) is not None}
    for number, ax in enumerate(fig.axes):
        if not ax.get_visible() or _is_colorbar_axes(ax) or not _has_data(ax):
            continue
        name = ax.get_title() or fig._suptitle.get_text() if fig._suptitle else ax.get_title()
        where = f"axes {number} ({name!r})" if name else f"axes {number}"
        if ax.axison:
            for which in "xy":
                if not _axis_labelled(ax, which):
                    found.append(f"{where}: the {which} axis has no label")
        series = _labelled_series(ax)
        if len(series) > 1 and ax.get_legend() is None and not fig.legends:
            found.append(f"{where}: {len(series)} labelled series ({', '.join(series[:4])}) "
                         "but no legend")
        for mappable in _heatmaps(ax):
            if getattr(mappable, "colorbar", None) is None and _scale(mappable) not in shared:
                found.append(f"{where}: a heatmap without a colour bar")
    return found


def _check(fig):
    key = id(fig)
    for problem in inspect(fig):
        line = f"figure {fig.number if hasattr(fig, 'number') else '?'}: {problem}"
        if (key, line) not in _SEEN:
            _SEEN.add((key, line))
            PROBLEMS.append(line)


def install() -> None:
    """Inspect every figure when it is rendered (idempotent)."""
    if getattr(FigureCanvasBase.print_figure, "_figure_hook", False):
        return
    original = FigureCanvasBase.print_figure

    def print_figure(self, *args, **kwargs):
        try:
            _check(self.figure)
        except Exception as exc:  # the inspection must never break a notebook
            PROBLEMS.append(f"figure hook error: {type(exc).__name__}: {exc}")
        return original(self, *args, **kwargs)

    print_figure._figure_hook = True
    FigureCanvasBase.print_figure = print_figure


def report() -> list[str]:
    return list(PROBLEMS)
