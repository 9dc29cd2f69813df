"""Device choice: CUDA, then MPS, then CPU; RNNCOURSE_DEVICE forces one."""

import pytest
import torch

from rnncourse import device as dev


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(dev.ENV_VAR, raising=False)


def fake_hardware(monkeypatch, cuda: bool, mps: bool):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: int(cuda))
    monkeypatch.setattr(dev, "_mps_available", lambda: mps)


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (False, True, "mps"), (True, False, "cuda"), (False, False, "cpu")])
def test_best_device_in_order_cuda_mps_cpu(monkeypatch, no_env, cuda, mps, expected):
    fake_hardware(monkeypatch, cuda, mps)
    assert dev.get_device().type == expected


def test_environment_variable_forces_cpu(monkeypatch):
    fake_hardware(monkeypatch, cuda=True, mps=False)
    monkeypatch.setenv(dev.ENV_VAR, "CPU")
    assert dev.get_device() == torch.device("cpu")


def test_argument_wins_over_environment(monkeypatch):
    fake_hardware(monkeypatch, cuda=True, mps=True)
    monkeypatch.setenv(dev.ENV_VAR, "cuda")
    assert dev.get_device("mps") == torch.device("mps")


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", "cpu:0:1"])
def test_unknown_device_is_a_clear_error(no_env, name):
    with pytest.raises(ValueError, match="expected one of"):
        dev.get_device(name)


def test_unavailable_device_is_an_error_not_a_fallback(monkeypatch, no_env):
    fake_hardware(monkeypatch, cuda=False, mps=False)
    with pytest.raises(RuntimeError, match="not available.*available: cpu"):
        dev.get_device("cuda")
    monkeypatch.setenv(dev.ENV_VAR, "mps")
    with pytest.raises(RuntimeError, match="not available"):
        dev.get_device()


def test_missing_cuda_index_is_an_error(monkeypatch, no_env):
    fake_hardware(monkeypatch, cuda=True, mps=False)
    with pytest.raises(RuntimeError, match="only 1 CUDA device"):
        dev.get_device("cuda:3")
