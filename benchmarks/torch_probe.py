"""Baseline (b): the per-layer probe as a PyTorch user would write it, on the CPU.

Forward through ``nn.functional`` ops, ``retain_grad()`` on every pre-activation, one
``loss.backward()``, then ``.grad`` reads for ``||dL/dW_l||`` and ``||dL/dh_l||``.
"""

from __future__ import annotations

import numpy as np
import torch

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


class TorchProbe:
    """Holds the network as torch leaf tensors, so each call measures only forward + backward."""

    def __init__(self, params: list[dict], x, y, activation: str = "tanh"):
        self.ws = [torch.tensor(np.asarray(p["w"]), requires_grad=True) for p in params]
        self.bs = [torch.tensor(np.asarray(p["b"]), requires_grad=True) for p in params]
        self.x, self.y = torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y))
        self.phi = ACTIVATIONS[activation]

    def __call__(self):
        for t in (*self.ws, *self.bs):
            t.grad = None
        h, pres = self.x, []
        for w, b in zip(self.ws[:-1], self.bs[:-1], strict=True):
            pre = h @ w + b  # (batch, width)
            pre.retain_grad()
            pres.append(pre)
            h = self.phi(pre)
        loss = torch.mean((h @ self.ws[-1] + self.bs[-1] - self.y) ** 2)
        loss.backward()
        with torch.no_grad():
            weight = torch.stack([w.grad.norm() for w in self.ws[:-1]])
            act = torch.stack([p.grad.norm() for p in pres])
        return weight.numpy(), act.numpy(), float(loss.detach())
