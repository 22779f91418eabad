"""Comparing integrad.compat's answers with Captum's, structure and numbers."""

import torch

#: The rules Captum gets right (its riemann_trapezoid is low by 1/n; see test_captum_ig).
CAPTUM_RULES = ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle"]


def assert_same(ours, theirs, rtol=1e-5, atol=1e-7):
    """The same structure (tensor, tuple or list) and tensors equal within ``rtol`` relative L2
    (or ``atol`` where Captum's are zero)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor), f"expected a tensor, got {type(ours).__name__}"
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        err = (ours.detach().double() - theirs.detach().double()).norm()
        assert err <= rtol * theirs.detach().double().norm() + atol, f"difference {err:.2e}"
        return
    assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
    for a, b in zip(ours, theirs, strict=True):
        assert_same(a, b, rtol, atol)
