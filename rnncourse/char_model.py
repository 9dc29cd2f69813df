"""The character-level LSTM language model of notebook 08 [000, 003].

Characters -> embedding -> ``torch.nn.LSTM`` (gate order i, f, g, o) -> linear layer
-> logits over the vocabulary; trained to predict the next character. Helpers sample
text one character at a time with a temperature, list the model's top-k guesses for
the next character at every position (the "realistic hidden unit" figure of [000]),
and measure the loss in nats per character on a long text with the state carried.
"""

import math

import torch
from torch import nn

from rnncourse.data.vocab import Vocab
from rnncourse.runtime import onednn

__all__ = ["CharLSTM", "sample", "top_k_next", "evaluate_loss"]


class CharLSTM(nn.Module):
    """Embedding (V -> E), ``num_layers`` LSTM layers of ``hidden_size`` H, linear H -> V.

    ``vocab`` is the string of characters (``Vocab.to_string()``); it is part of the
    config so a shipped model knows its own alphabet. Dropout, if any, acts only on
    the non-recurrent connections (between layers and before the output layer).
    """

    def __init__(self, vocab: str, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        self.vocab = Vocab(vocab)
        self.config = dict(vocab=self.vocab.to_string(), embed_dim=embed_dim,
                           hidden_size=hidden_size, num_layers=num_layers, dropout=dropout)
        V = len(self.vocab)
        self.embed = nn.Embedding(V, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, V)

    def forward(self, x: torch.Tensor, state=None):
        """x: ids of shape (N, T). Returns logits (N, T, V) and the final state
        ``(h, c)``, each (num_layers, N, H), to pass back in for the next window."""
        if x.dim() != 2:
            raise ValueError(f"expected ids of shape (N, T), got {tuple(x.shape)}")
        out, state = self.lstm(self.embed(x), state)  # (N, T, H)
        return self.head(self.drop(out)), state

    def encode(self, text: str) -> torch.Tensor:
        """Ids of ``text`` as a (1, T) tensor on the model's device."""
        return self.vocab.encode(text).unsqueeze(0).to(self.head.weight.device)


@torch.no_grad()
def sample(model: CharLSTM, prime: str = "\n", length: int = 200, temperature: float = 1.0,
           generator: torch.Generator | None = None) -> str:
    """Continue ``prime`` by ``length`` characters drawn one at a time from
    ``softmax(logits / temperature)``; each drawn character is fed back in."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not prime:
        raise ValueError("prime must hold at least one character")
    model.eval()
    device = model.head.weight.device
    out = []
    # One character at a time with batch 1, PyTorch's oneDNN LSTM path is several times
    # slower than the plain one on CPU (measured in notebook 08); training with long
    # windows is faster with it, so it is switched off only here.
    with onednn(torch.backends.mkldnn.enabled and device.type != "cpu"):
        logits, state = model(model.encode(prime))
        for _ in range(length):
            p = torch.softmax(logits[0, -1].float() / temperature, dim=-1).cpu()
            idx = torch.multinomial(p, 1, generator=generator)  # (1,)
            out.append(model.vocab.chars[idx.item()])
            logits, state = model(idx.view(1, 1).to(device), state)
    return "".join(out)


@torch.no_grad()
def top_k_next(model: CharLSTM, text: str, k: int = 5) -> tuple[list[list[str]], torch.Tensor]:
    """The model's k likeliest next characters after each position of ``text``.

    Returns ``guesses`` (T lists of k characters, best first) and their
    probabilities, a tensor of shape (T, k).
    """
    model.eval()
    logits, _ = model(model.encode(text))
    probs = torch.softmax(logits[0].float(), dim=-1)  # (T, V)
    p, idx = probs.topk(min(k, probs.shape[-1]), dim=-1)  # (T, k)
    chars = model.vocab.chars
    return [[chars[i] for i in row] for row in idx.tolist()], p.cpu()


@torch.no_grad()
def evaluate_loss(model: CharLSTM, text: str, rows: int = 16, seq_len: int = 256) -> float:
    """Mean cross-entropy in nats/char of predicting each next character of ``text``.

    The text is cut into ``rows`` contiguous streams (as the TBPTT batcher does) and
    read in windows of ``seq_len`` with the state carried, so every prediction but the
    first of each row sees all the text before it in its row.
    """
    model.eval()
    ids = model.vocab.encode(text).to(model.head.weight.device)
    rows = max(1, min(rows, (ids.numel() - 1) // 2))
    S = ids.numel() // rows
    if S < 2:
        raise ValueError(f"text of {len(text)} characters is too short to evaluate")
    data = ids[: rows * S].view(rows, S)  # (N, S)
    total, count, state = 0.0, 0, None
    for start in range(0, S - 1, seq_len):
        x = data[:, start : min(start + seq_len, S - 1)]
        y = data[:, start + 1 : start + 1 + x.shape[1]]
        logits, state = model(x, state)
        loss = nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten(),
                                           reduction="sum")
        total += loss.item()
        count += y.numel()
    result = total / count
    if not math.isfinite(result):
        raise FloatingPointError("evaluation loss is not finite")
    return result
