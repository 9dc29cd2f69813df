"""The one rendering helper of the diagram tests: a figure as PNG bytes, then closed."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def png(fig, dpi: float | None = None) -> bytes:
    """PNG bytes of ``fig`` without the software stamp (so equal pictures give equal bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi if dpi is not None else "figure",
                metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
