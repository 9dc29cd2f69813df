"""The interpretable-cell explorer: a text coloured by one LSTM cell's activation, with
the model's top-5 guesses for the next character under every position.

This is the "realistic hidden unit" figure of [000] (after Karpathy, Johnson and
Fei-Fei 2015, [003]): green where the cell is excited, blue where it is not, and below
each character the five likeliest next characters, shaded by their probability.

``CellExplorer`` holds the logic (no widget in it): set the text, the layer, the cell and
the quantity (the cell state, the hidden state or any gate i, f, g, o), then read
``activation()``, ``positions()``, ``top_cells()`` or ``html()``. ``widget()`` builds the
ipywidgets view on top of it (a dropdown of the cells most correlated with each feature
of ``rnncourse.interpret.FEATURES``, layer, cell, quantity, a text box), which can be
driven from code too, so tests and headless notebooks see what a user would.
"""

import html as html_lib
from typing import NamedTuple

import numpy as np

from rnncourse.char_model import top_k_next
from rnncourse.interpret import FEATURES, CellScore, lstm_internals, search_cells

__all__ = ["QUANTITIES", "SIGMOID_GATES", "Position", "CellExplorer", "CellExplorerView",
           "activation_colour"]

# What can colour the text: the cell state squashed as the output sees it, h, or a gate.
QUANTITIES = {"c": "cell state tanh(c_t)", "h": "hidden state h_t",
              "i": "input gate i_t", "f": "forget gate f_t", "g": "candidate g_t",
              "o": "output gate o_t"}
SIGMOID_GATES = ("i", "f", "o")  # values in [0, 1]: coloured blue (closed) to green (open)
_EXCITED, _CALM = np.array([26, 152, 80]), np.array([33, 102, 172])  # green, blue


def activation_colour(value: float) -> str:
    """CSS colour of an activation in [-1, 1]: blue (-1), white (0), green (+1)."""
    v = float(np.clip(value, -1.0, 1.0))
    end = _EXCITED if v >= 0 else _CALM
    rgb = np.round(255 + abs(v) * (end - 255)).astype(int)
    return f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"


def _shown(ch: str) -> str:
    """Visible form of a character in the HTML (newline as a return arrow)."""
    return {"\n": "\u21b5", " ": "\u00a0", "\t": "\u21e5"}.get(ch, ch)


class Position(NamedTuple):
    char: str
    value: float                  # the chosen cell's activation after reading char
    guesses: list[str]            # top-k next characters, best first
    probs: list[float]            # their probabilities


class CellExplorer:
    """Logic of the explorer for a ``CharLSTM`` ``model`` reading ``text``.

    Args:
        model: a ``rnncourse.char_model.CharLSTM``.
        text: what to read (at most ``max_chars`` characters are kept).
        layer, cell: the unit to show (0-based).
        quantity: ``"c"`` (tanh of the cell state, default), ``"h"``, or a gate
            ``"i"``, ``"f"``, ``"g"``, ``"o"``.
        k: number of next-character guesses shown under each position.
    """

    def __init__(self, model, text: str, layer: int = 0, cell: int = 0,
                 quantity: str = "c", k: int = 5, max_chars: int = 2000):
        self.model, self.k, self.max_chars = model, k, max_chars
        self.num_layers = model.lstm.num_layers
        self.hidden_size = model.lstm.hidden_size
        self.layer = self.cell = 0
        self.quantity = "c"
        self.select(layer, cell, quantity)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        """Read a new text: record every layer's states and the top-k guesses."""
        if not text:
            raise ValueError("the explorer needs at least one character of text")
        self.text = text[: self.max_chars]
        self.internals = lstm_internals(self.model, self.text)  # per layer: (T, H)
        self.guesses, probs = top_k_next(self.model, self.text, self.k)
        self.probs = probs.numpy()  # (T, k)

    def select(self, layer: int | None = None, cell: int | None = None,
               quantity: str | None = None) -> None:
        """Choose what colours the text; arguments left as None keep their value."""
        layer = self.layer if layer is None else layer
        cell = self.cell if cell is None else cell
        quantity = self.quantity if quantity is None else quantity
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer must be in 0..{self.num_layers - 1}, got {layer}")
        if not 0 <= cell < self.hidden_size:
            raise ValueError(f"cell must be in 0..{self.hidden_size - 1}, got {cell}")
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {list(QUANTITIES)}, got {quantity!r}")
        self.layer, self.cell, self.quantity = layer, cell, quantity

    def activation(self) -> np.ndarray:
        """The chosen unit's activation after each character, shape (T,): in [-1, 1]
        for c (as tanh c_t), h and g; in [0, 1] for the sigmoid gates i, f, o."""
        values = self.internals[self.layer][self.quantity][:, self.cell]
        return np.tanh(values) if self.quantity == "c" else values

    def colour_values(self) -> np.ndarray:
        """``activation()`` mapped to [-1, 1] for colouring (a gate's 0..1 to -1..1)."""
        a = self.activation()
        return 2.0 * a - 1.0 if self.quantity in SIGMOID_GATES else a

    def top_cells(self, features: dict | None = None, top: int = 3) -> dict[str, list[CellScore]]:
        """For each feature (default ``FEATURES``), the ``top`` units of all layers whose
        current quantity correlates most with it on the current text (``search_cells``)."""
        layers = []
        for layer in self.internals:
            values = layer[self.quantity]  # (T, H)
            layers.append(np.tanh(values) if self.quantity == "c" else values)
        return search_cells(layers, self.text, FEATURES if features is None else features, top)

    def positions(self) -> list[Position]:
        """What the view shows, one entry per character."""
        a = self.activation()
        return [Position(ch, float(a[t]), self.guesses[t], self.probs[t].tolist())
                for t, ch in enumerate(self.text)]

    def html(self, guesses: bool = True) -> str:
        """The coloured text as HTML; ``guesses=False`` leaves out the rows below."""
        cols = []
        shade = self.colour_values()
        for t, p in enumerate(self.positions()):
            cells = [f'<div class="ch" style="background:{activation_colour(shade[t])}">'
                     f"{html_lib.escape(_shown(p.char))}</div>"]
            if guesses:
                cells += [f'<div class="g" style="background:rgba(214,39,40,{q:.2f})">'
                          f"{html_lib.escape(_shown(g))}</div>"
                          for g, q in zip(p.guesses, p.probs)]
            cols.append(f'<div class="col" title="t={t} value={p.value:+.2f}">'
                        + "".join(cells) + "</div>")
            if p.char == "\n":
                cols.append('<div class="br"></div>')
        style = ("<style>.rnncourse-cells{display:flex;flex-wrap:wrap;row-gap:6px;"
                 "font-family:monospace;font-size:13px;line-height:1.25}"
                 ".rnncourse-cells .col{text-align:center;min-width:0.7em}"
                 ".rnncourse-cells .g{font-size:10px;color:#222}"
                 ".rnncourse-cells .br{flex-basis:100%;height:0}</style>")
        head = (f"<div><b>layer {self.layer}, cell {self.cell}</b>: "
                f"{QUANTITIES[self.quantity]}; "
                + ("green open (1), blue closed (0)" if self.quantity in SIGMOID_GATES
                   else "green excited (+1), blue not (-1)")
                + (f"; below: top-{self.k} guesses for the next character" if guesses else "")
                + "</div>")
        return style + head + '<div class="rnncourse-cells">' + "".join(cols) + "</div>"

    def widget(self):
        """An ipywidgets view (``CellExplorerView``) of this explorer."""
        return CellExplorerView(self)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget().box)


class CellExplorerView:
    """Controls and display of a ``CellExplorer``; set ``.suggested.value`` (a
    ``(layer, cell)`` pair from its options), ``.layer.value``, ``.cell.value``,
    ``.quantity.value`` or ``.text.value`` and ``.display`` follows. ``.suggested``
    lists, for each feature, the cells most correlated with it on the current text and
    quantity (recomputed when either changes)."""

    def __init__(self, explorer: CellExplorer):
        import ipywidgets as w

        self.explorer = explorer
        self.layer = w.Dropdown(options=list(range(explorer.num_layers)),
                                value=explorer.layer, description="layer")
        self.cell = w.BoundedIntText(value=explorer.cell, min=0,
                                     max=explorer.hidden_size - 1, description="cell")
        self.quantity = w.ToggleButtons(options=[(v, k) for k, v in QUANTITIES.items()],
                                        value=explorer.quantity)
        self.suggested = w.Dropdown(options=self._suggestions(), value=None,
                                    description="top cells", layout=w.Layout(width="32em"))
        self.text = w.Textarea(value=explorer.text, continuous_update=False,
                               layout=w.Layout(width="100%", height="6em"),
                               description="text")
        self.display = w.HTML(value=explorer.html())
        self.errors = w.Output()  # exceptions in callbacks land here, not in a void
        for control in (self.layer, self.cell):
            control.observe(self._on_select, names="value")
        self.quantity.observe(self._on_quantity, names="value")
        self.suggested.observe(self._on_suggested, names="value")
        self.text.observe(self._on_text, names="value")
        self.box = w.VBox([self.suggested, w.HBox([self.layer, self.cell]), self.quantity,
                           self.text, self.display, self.errors])

    def _suggestions(self) -> list:
        options = [("pick a feature's best cell ...", None)]
        for feature, scores in self.explorer.top_cells().items():
            # a feature that is constant on this text (no quotes typed) has r = 0 everywhere
            options += [(f"{feature}: layer {s.layer}, cell {s.cell} (r = {s.r:+.2f})",
                         (s.layer, s.cell)) for s in scores if abs(s.r) > 1e-9]
        return options

    def _refresh(self) -> None:
        self.suggested.options = self._suggestions()  # resets the value to None
        self.display.value = self.explorer.html()

    def _on_select(self, _change) -> None:
        with self.errors:
            self.explorer.select(self.layer.value, self.cell.value, self.quantity.value)
            self.display.value = self.explorer.html()

    def _on_quantity(self, _change) -> None:
        with self.errors:
            self.explorer.select(quantity=self.quantity.value)
            self._refresh()

    def _on_suggested(self, change) -> None:
        if change["new"] is None:
            return
        with self.errors:
            layer, cell = change["new"]
            self.explorer.select(layer, cell)
            with self.layer.hold_trait_notifications(), self.cell.hold_trait_notifications():
                self.layer.value, self.cell.value = layer, cell
            self.display.value = self.explorer.html()

    def _on_text(self, change) -> None:
        with self.errors:
            self.explorer.set_text(change["new"])
            self._refresh()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)
