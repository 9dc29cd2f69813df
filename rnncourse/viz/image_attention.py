"""Where a captioner looks: attention weights over the image grid, one map per word.

"Show, attend and tell" [002] draws, under each generated word, the image lit where
the attention weights ``alpha_t`` are large. ``AttentionExplorer`` does this for the
captions of ``rnncourse.captioning.AttentionCaptioner``: a plain object holds the
logic (which word, its map, the overlay) and can be driven from code;
``widget()`` puts a slider and a plot on top, for stepping through the words.
``plot_attention_words`` draws every word at once, which also works headless.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["AttentionExplorer", "attention_map", "plot_attention_words"]


def _as_hwc(image) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[0] == 3 and image.shape[2] != 3:
        image = image.transpose(1, 2, 0)  # (3, S, S) -> (S, S, 3)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an image of shape (S, S, 3) or (3, S, S), got {image.shape}")
    return image / 255 if image.max() > 1 else image


def attention_map(alpha, size: int) -> np.ndarray:
    """Weights ``alpha`` ``(L,)`` over a ``G x G`` grid, blown up to ``(size, size)``
    (each cell becomes a block of pixels: the grid the model really sees)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    grid = int(round(np.sqrt(alpha.size)))
    if alpha.ndim != 1 or grid * grid != alpha.size or size % grid:
        raise ValueError(f"expected alpha of shape (G*G,) with G dividing {size}, "
                         f"got {alpha.shape}")
    block = size // grid
    return np.kron(alpha.reshape(grid, grid), np.ones((block, block)))


class AttentionExplorer:
    """Step through the words of a caption and see each one's attention map.

    ``image``: ``(S, S, 3)`` (or ``(3, S, S)``); ``words``: the T generated words
    (``<END>`` included if you like); ``alphas``: ``(T, L)`` weights, one row per word.
    Drive it from code with ``set_word(k)``; read ``word``, ``heatmap()`` and
    ``overlay()``; ``widget()`` returns the interactive view.
    """

    def __init__(self, image, words: list, alphas):
        self.image = _as_hwc(image)
        self.words = list(words)
        self.alphas = np.asarray(alphas, dtype=np.float64)
        if self.alphas.ndim != 2 or len(self.alphas) != len(self.words):
            raise ValueError(f"expected alphas of shape (T, L) with T = {len(self.words)} words, "
                             f"got {self.alphas.shape}")
        self.index = 0
        self.figure = None  # the widget's latest plot
        self._slider = None
        self._output = None

    @property
    def word(self) -> str:
        return self.words[self.index]

    def set_word(self, k: int) -> None:
        """Show word ``k`` (the slider follows when the widget exists)."""
        if not 0 <= k < len(self.words):
            raise IndexError(f"word index {k} outside 0..{len(self.words) - 1}")
        self.index = k
        if self._slider is not None and self._slider.value != k:
            self._slider.value = k  # its observer redraws
        elif self._output is not None:
            self._redraw()

    def heatmap(self, k: int | None = None) -> np.ndarray:
        """The attention map of word ``k`` (default: the current one), ``(S, S)``."""
        k = self.index if k is None else k
        return attention_map(self.alphas[k], self.image.shape[0])

    def overlay(self, k: int | None = None) -> np.ndarray:
        """The image dimmed where the weight is small: ``(S, S, 3)`` in [0, 1]."""
        heat = self.heatmap(k)
        light = 0.15 + 0.85 * heat / max(heat.max(), 1e-12)
        return self.image * light[:, :, None]

    def draw(self, ax=None, k: int | None = None):
        """Draw word ``k``'s overlay on ``ax`` (new figure if None); returns the axes."""
        k = self.index if k is None else k
        ax = ax or plt.subplots(figsize=(3, 3))[1]
        ax.imshow(self.overlay(k), interpolation="nearest")
        ax.set_title(f"{k}: {self.words[k]!r}  (max weight {self.alphas[k].max():.2f})")
        ax.axis("off")
        return ax

    def caption_html(self) -> str:
        """The caption with the current word in bold."""
        return " ".join(f"<b>[{w}]</b>" if i == self.index else w for i, w in enumerate(self.words))

    def _redraw(self) -> None:
        self._output.clear_output(wait=True)
        with self._output:  # exceptions in callbacks show up here, not nowhere
            self._label.value = self.caption_html()
            if self.figure is not None:
                plt.close(self.figure)
            ax = self.draw()
            self.figure = ax.figure
            plt.show()

    def widget(self) -> widgets.VBox:
        """A slider over the words, the caption with the current word marked, the plot."""
        self._slider = widgets.IntSlider(value=self.index, min=0, max=len(self.words) - 1,
                                         description="word")
        self._label = widgets.HTML(self.caption_html())
        self._output = widgets.Output()

        def on_change(change):
            self.index = change["new"]
            self._redraw()

        self._slider.observe(on_change, names="value")
        self._redraw()
        return widgets.VBox([self._slider, self._label, self._output])


def plot_attention_words(image, words: list, alphas, columns: int = 6):
    """One panel per word: the image lit by that word's attention. Returns the figure."""
    explorer = AttentionExplorer(image, words, alphas)
    rows = -(-len(words) // columns)
    fig, axes = plt.subplots(rows, columns + 1, figsize=(2 * (columns + 1), 2.2 * rows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r in range(rows):
        axes[r, 0].imshow(explorer.image, interpolation="nearest")
        axes[r, 0].set_title("image")
    for k in range(len(words)):
        ax = axes[k // columns, 1 + k % columns]
        ax.imshow(explorer.overlay(k), interpolation="nearest")
        ax.set_title(words[k])
    fig.tight_layout()
    return fig
