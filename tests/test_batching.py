"""TBPTT batcher: contiguous rows so a window continues where the previous one ended."""

import pytest
import torch

from rnncourse.data.batching import TBPTTBatcher


def test_targets_are_inputs_shifted_by_one():
    data = torch.arange(103)
    for N, T in [(1, 5), (4, 7), (3, 10)]:
        for x, y in TBPTTBatcher(data, N, T):
            assert x.shape == y.shape == (N, T)
            assert torch.equal(y, x + 1)


def test_each_row_continues_across_windows():
    data = torch.arange(1000)
    batcher = TBPTTBatcher(data, batch_size=4, seq_len=8)
    rows = torch.cat([x for x, _ in batcher], dim=1)  # (N, len * T)
    S = 1000 // 4
    for n in range(4):
        assert torch.equal(rows[n], torch.arange(n * S, n * S + rows.shape[1]))


def test_number_of_windows_leaves_room_for_the_last_target():
    batcher = TBPTTBatcher(torch.arange(41), batch_size=2, seq_len=5)  # rows of 20
    assert len(batcher) == 3  # 19 usable inputs -> 3 full windows
    with pytest.raises(IndexError):
        batcher.window(3)


def test_rejects_too_short_or_bad_input():
    with pytest.raises(ValueError, match="too short"):
        TBPTTBatcher(torch.arange(10), batch_size=4, seq_len=5)
    with pytest.raises(ValueError, match=r"shape \(L,\)"):
        TBPTTBatcher(torch.zeros(4, 5, dtype=torch.long), batch_size=1, seq_len=2)
