"""How far back a gradient reaches: ||dL/dh_t|| against the distance T - t.

Backpropagating through a vanilla RNN multiplies the gradient by one Jacobian per step
(slide decks 001 and 004):

    dL/dh_{t-1} = W_hh^T diag(1 - h_t^2) dL/dh_t,   so   dL/dh_{T-k} = prod_{j} (...) dL/dh_T

and for a linear RNN simply (W_hh^T)^k dL/dh_T, whose size grows or shrinks like
rho^k, rho the spectral radius of W_hh (Bengio et al. 1994; Pascanu et al. 2013).
``GradientFlow`` computes these norms for any radius (the logic, no widgets);
``GradientFlowExplorer`` puts a slider over the radius and redraws the plot, and can
be driven from code (``explorer.radius = 1.2``) so it works headless and in tests.
"""

import numpy as np
from matplotlib.figure import Figure

__all__ = ["matrix_with_spectral_radius", "GradientFlow", "GradientFlowExplorer"]


def matrix_with_spectral_radius(W: np.ndarray, radius: float) -> np.ndarray:
    """``W`` (H, H) rescaled so that its largest |eigenvalue| is ``radius``."""
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"expected a square matrix W of shape (H, H), got {W.shape}")
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    return W * (radius / rho)


class GradientFlow:
    """Gradient norms through a random RNN of ``hidden_size`` units over ``T`` steps.

    One random Gaussian matrix is drawn once and rescaled to each radius, and the
    inputs u_t (T, H) are fixed, so curves for different radii are comparable.
    """

    def __init__(self, hidden_size: int = 32, T: int = 60, seed: int = 0,
                 input_scale: float = 1.0, n_directions: int = 8):
        rng = np.random.default_rng(seed)
        self.T = T
        self.W0 = rng.standard_normal((hidden_size, hidden_size))
        self.u = rng.standard_normal((T, hidden_size)) * input_scale  # (T, H)
        g = rng.standard_normal((n_directions, hidden_size))
        self.g_T = g / np.linalg.norm(g, axis=1, keepdims=True)  # unit dL/dh_T, (n, H)

    def norms(self, radius: float) -> dict:
        """``{"linear": (T+1,), "tanh": (T+1,)}``: mean ||dL/dh_{T-k}|| for k = 0..T."""
        if radius <= 0:
            raise ValueError(f"expected a positive spectral radius, got {radius}")
        W_hh = matrix_with_spectral_radius(self.W0, radius)
        hs = [np.zeros(self.W0.shape[0])]
        for t in range(self.T):
            hs.append(np.tanh(W_hh @ hs[-1] + self.u[t]))
        out = {}
        for kind in ("linear", "tanh"):
            g, norms = self.g_T.copy(), [1.0]
            for t in range(self.T, 0, -1):
                if kind == "tanh":
                    g = g * (1.0 - hs[t] ** 2)  # rows: one direction each
                g = g @ W_hh  # (n, H): each row times W_hh, i.e. W_hh^T g
                norms.append(float(np.exp(np.mean(np.log(np.linalg.norm(g, axis=1) + 1e-300)))))
            out[kind] = np.array(norms)
        return out

    def plot(self, ax, radius: float) -> dict:
        """Draw both curves and rho^k on ``ax``; return the lines by name."""
        k = np.arange(self.T + 1)
        norms = self.norms(radius)
        lines = {"linear": ax.semilogy(k, norms["linear"], label="linear RNN")[0],
                 "tanh": ax.semilogy(k, norms["tanh"], label="tanh RNN")[0],
                 "rho^k": ax.semilogy(k, radius ** k, "k:", label=r"$\rho^k$")[0]}
        ax.set_xlabel("distance k = T - t (steps back in time)")
        ax.set_ylabel(r"$\|\partial L / \partial h_{T-k}\|$")
        ax.set_ylim(1e-12, 1e12)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left")
        return lines


class GradientFlowExplorer:
    """A slider over the spectral radius of W_hh that redraws ||dL/dh_t|| against distance.

    ``explorer.radius = r`` moves the slider (as a person would) and redraws;
    ``explorer.lines[name].get_ydata()`` is what the plot shows. Display it in a
    notebook cell (``explorer`` as the cell's last line) or call ``explorer.show()``.
    """

    def __init__(self, flow: GradientFlow | None = None, radius: float = 1.0,
                 radius_range: tuple = (0.5, 1.5)):
        import ipywidgets as widgets

        self.flow = flow or GradientFlow()
        self.figure = Figure(figsize=(7, 4))
        self.ax = self.figure.add_subplot()
        self.slider = widgets.FloatSlider(value=radius, min=radius_range[0], max=radius_range[1],
                                          step=0.05, description="radius ρ", continuous_update=False)
        self.output = widgets.Output()
        self.lines = self.flow.plot(self.ax, radius)
        self._title(radius)
        self.slider.observe(self._on_change, names="value")
        self.view = widgets.VBox([self.slider, self.output])
        self._render()

    @property
    def radius(self) -> float:
        return self.slider.value

    @radius.setter
    def radius(self, value: float) -> None:
        self.slider.value = value

    def _title(self, radius: float) -> None:
        self.ax.set_title(f"spectral radius of W_hh: ρ = {radius:.2f}")

    def _on_change(self, change) -> None:
        # callbacks print into the Output widget: an exception elsewhere would vanish
        with self.output:
            radius = change["new"]
            norms = self.flow.norms(radius)
            self.lines["linear"].set_ydata(norms["linear"])
            self.lines["tanh"].set_ydata(norms["tanh"])
            self.lines["rho^k"].set_ydata(radius ** np.arange(self.flow.T + 1))
            self._title(radius)
        self._render()

    def _render(self) -> None:
        from IPython.display import display

        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)

    def show(self):
        """Display the slider and the plot."""
        from IPython.display import display

        display(self.view)

    def _ipython_display_(self):
        self.show()
