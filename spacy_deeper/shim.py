"""`AveragingPyTorchShim`: thinc's PyTorchShim that also applies the optimizer's
parameter averages, and can predict with an int8 copy of the torch model."""
import contextlib
import copy
import warnings
from typing import Callable

import torch
from thinc.api import ArgsKwargs, PyTorchShim, xp2torch


class AveragingPyTorchShim(PyTorchShim):
    """thinc's PyTorchShim, except that `use_params` finds the parameter averages.

    The optimizer keeps a torch parameter's average (Adam with use_averages = true)
    under the key (shim id, parameter name), the key finish_update gives it, while
    PyTorchShim.use_params looks for "pytorch_{id}_{name}": the averages would never
    reach the torch model, in evaluation or in the saved pipelines.

    With int8, prediction runs a copy of the model whose RNN and linear layers are
    dynamically quantized (int8 weights, activations quantized on the fly), made when
    first needed and again whenever the weights have changed since.
    """

    def __init__(self, model, *args, int8: bool = False, **kwargs):
        super().__init__(model, *args, **kwargs)
        self.int8 = int8
        self._quantized = None  # (weight versions, quantized copy)

    @property
    def net(self) -> torch.nn.Module:
        """The wrapped torch module."""
        return self._model

    def predict(self, inputs: ArgsKwargs):
        if not self.int8:
            return super().predict(inputs)
        check_int8_device(self.device.type)
        with torch.no_grad(), warnings.catch_warnings():
            # torch 2.13 marks the quantized tensor factories its int8 layers call deprecated.
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
            return self.quantized_model()(*inputs.args, **inputs.kwargs)

    def quantized_model(self) -> torch.nn.Module:
        versions = [param._version for param in self._model.parameters()]
        if self._quantized is None or self._quantized[0] != versions:
            self._quantized = (versions, int8_copy(self._model))
        return self._quantized[1]

    @contextlib.contextmanager
    def use_params(self, params):
        state = {
            name: xp2torch(params[(self.id, name)], device=self.device)
            for name, _ in self._model.named_parameters()
            if (self.id, name) in params
        }
        if not state:
            yield
            return
        backup = {name: value.clone() for name, value in self._model.state_dict().items()}
        self._model.load_state_dict(state, strict=False)
        try:
            yield
        finally:
            self._model.load_state_dict(backup)


def check_int8_device(device_type: str) -> None:
    """int8 layers run on the CPU only: a clear error for any other device."""
    if device_type != "cpu":
        raise ValueError("int8 prediction runs on the CPU only: set int8 = false to predict on a GPU.")


def int8_copy(module: torch.nn.Module, keep_float: Callable[[str], bool] = lambda name: False) -> torch.nn.Module:
    """A copy of `module` in eval mode whose Linear, GRU and LSTM layers are dynamically
    quantized to int8 (weights int8, activations quantized on the fly), except those
    whose name `keep_float` picks; CPU only."""
    layers = (torch.nn.Linear, torch.nn.GRU, torch.nn.LSTM)
    names = {name for name, m in module.named_modules() if isinstance(m, layers) and not keep_float(name)}
    with warnings.catch_warnings():
        # torch.ao.quantization works in torch 2.13 but is marked deprecated (for torchao).
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(module).eval(), names, dtype=torch.qint8)
