"""Batches for truncated backpropagation through time (TBPTT) [003].

A long token stream of length L is cut into N contiguous rows of length L // N
(row n holds ``data[n*S : (n+1)*S]``). Window k of length T takes columns
``k*T .. k*T+T`` of every row as input and the same columns shifted by one as
targets. Row n of window k+1 continues exactly where row n of window k stopped, so
the LSTM state at the end of one window is the right initial state for the next:
carry it over, detached, and backpropagate only T steps.
"""

import torch

__all__ = ["TBPTTBatcher"]


class TBPTTBatcher:
    """Windows ``(x, y)`` of shape (N, T) over a stream, in order.

    Args:
        data: LongTensor of shape (L,), the encoded text.
        batch_size: N, the number of parallel contiguous streams.
        seq_len: T, the truncation length.
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seq_len: int):
        if data.dim() != 1:
            raise ValueError(f"expected data of shape (L,), got {tuple(data.shape)}")
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size}, {seq_len}")
        row_len = data.numel() // batch_size
        if row_len < seq_len + 1:
            raise ValueError(
                f"a stream of {data.numel()} tokens is too short for {batch_size} rows of "
                f"at least seq_len + 1 = {seq_len + 1} tokens"
            )
        self.batch_size, self.seq_len = batch_size, seq_len
        self.rows = data[: row_len * batch_size].view(batch_size, row_len)  # (N, S)

    def __len__(self) -> int:
        """Windows per pass; the last target column of each row is never an input."""
        return (self.rows.shape[1] - 1) // self.seq_len

    def window(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Window ``k`` (0 <= k < len): inputs and next-character targets, each (N, T)."""
        if not 0 <= k < len(self):
            raise IndexError(f"window {k} out of range 0..{len(self) - 1}")
        start = k * self.seq_len
        x = self.rows[:, start : start + self.seq_len]
        y = self.rows[:, start + 1 : start + self.seq_len + 1]
        return x, y

    def __iter__(self):
        for k in range(len(self)):
            yield self.window(k)
