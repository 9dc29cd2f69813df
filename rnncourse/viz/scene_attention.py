"""Where an attention captioner looks, over many scenes, with smoothed maps (notebook 11).

``rnncourse.viz.image_attention`` draws one caption's weights cell by cell. Show, attend
and tell [002] draws them smoothed (upsampled and blurred), which is easier to read as
"where the model looks"; ``smooth_attention`` does that (bilinear upsampling of the
``G x G`` grid of weights), ``SmoothAttentionExplorer`` is the one-caption explorer with
smoothed maps, ``plot_attention_overlays`` draws every word of a caption, and
``SceneAttentionExplorer`` captions any scene, a test scene picked by index or a new one
drawn by seed, and steps through its words.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from rnncourse.captioning import greedy
from rnncourse.data import scenes as sc
from rnncourse.viz.image_attention import AttentionExplorer

__all__ = ["smooth_attention", "SmoothAttentionExplorer", "plot_attention_overlays",
           "SceneAttentionExplorer"]


def smooth_attention(alpha, size: int) -> np.ndarray:
    """Weights ``alpha`` ``(L,)`` over a ``G x G`` grid, bilinearly upsampled to
    ``(size, size)``: each pixel gets the weight of the cells around it, interpolated
    between their centres (the map's values stay within the weights' range)."""
    alpha = np.asarray(alpha, dtype=np.float32)
    grid = int(round(np.sqrt(alpha.size)))
    if alpha.ndim != 1 or grid * grid != alpha.size:
        raise ValueError(f"expected alpha of shape (G*G,), got {alpha.shape}")
    up = F.interpolate(torch.from_numpy(alpha).reshape(1, 1, grid, grid), size=(size, size),
                       mode="bilinear", align_corners=False)
    return up[0, 0].numpy().astype(np.float64)


class SmoothAttentionExplorer(AttentionExplorer):
    """``AttentionExplorer`` with smoothed maps (``smooth_attention``)."""

    def heatmap(self, k: int | None = None) -> np.ndarray:
        k = self.index if k is None else k
        return smooth_attention(self.alphas[k], self.image.shape[0])


def plot_attention_overlays(image, words: list, alphas, columns: int = 6):
    """One panel per word: the image with that word's smoothed attention on top, one
    shared colour scale (the weight of a grid cell). Returns the figure."""
    explorer = SmoothAttentionExplorer(image, words, alphas)
    rows = -(-len(words) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, 2.3 * rows), squeeze=False)
    top = float(explorer.alphas.max())
    for ax in axes.flat:
        ax.axis("off")
    for k, word in enumerate(words):
        ax = axes[k // columns, k % columns]
        ax.imshow(explorer.image, interpolation="nearest")
        shown = ax.imshow(explorer.heatmap(k), cmap="magma", alpha=0.6, vmin=0, vmax=top)
        ax.set_title(f"{k}: {word}", fontsize=9)
    fig.colorbar(shown, ax=axes, shrink=0.8, label="attention weight of a grid cell")
    return fig


class SceneAttentionExplorer:
    """Caption any scene with an attention captioner and step through its words.

    ``scenes``: the scenes to pick from by index (``show(index)``); ``new_scene(seed)``
    draws a new one with ``make_scenes(1, seed, image_size, max_shapes, min_shapes)``.
    ``words``, ``caption`` (the greedy ``Caption``) and ``explorer`` (a
    ``SmoothAttentionExplorer``) describe the current scene; ``widget()`` adds a scene
    slider, a seed box and a word slider.
    """

    def __init__(self, model, scenes: list, image_size: int, max_shapes: int = 3,
                 min_shapes: int = 1):
        if not scenes:
            raise ValueError("expected at least one scene to explore")
        self.model, self.scenes = model, list(scenes)
        self.shapes = dict(image_size=image_size, max_shapes=max_shapes, min_shapes=min_shapes)
        self._panel = None
        self.show(0)

    def show(self, index: int) -> str:
        """Caption test scene ``index``; returns the caption."""
        if not 0 <= index < len(self.scenes):
            raise IndexError(f"scene index {index} outside 0..{len(self.scenes) - 1}")
        self.label = f"scene {index}"
        return self._caption(self.scenes[index])

    def new_scene(self, seed: int) -> str:
        """Caption a new scene drawn with ``seed``; returns the caption."""
        scene = sc.make_scenes(1, seed, **self.shapes)[0]
        self.label = f"new scene, seed {seed}"
        return self._caption(scene)

    def _caption(self, scene) -> str:
        self.scene = scene
        self.image = sc.render_batch([scene])[0]
        self.caption = greedy(self.model, self.image[None])[0]
        self.words = [sc.WORDS[i] for i in self.caption.ids]
        self.explorer = SmoothAttentionExplorer(self.image, self.words, self.caption.attention)
        self.correct = self.caption.text in sc.captions(scene)
        if self._panel is not None:
            self._panel.children = [self._controls, self.explorer.widget()]
        return self.caption.text

    def widget(self) -> widgets.VBox:
        """Scene slider and seed box on top of the current scene's word explorer."""
        pick = widgets.IntSlider(value=0, min=0, max=len(self.scenes) - 1, description="scene")
        seed = widgets.IntText(value=0, description="seed")
        draw = widgets.Button(description="new scene")
        pick.observe(lambda change: self.show(change["new"]), names="value")
        draw.on_click(lambda _: self.new_scene(seed.value))
        self._controls = widgets.HBox([pick, seed, draw])
        self._panel = widgets.VBox([self._controls, self.explorer.widget()])
        return self._panel
