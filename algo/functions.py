"""Autograd functions of the N:M layers: FF with ``W . Mff``, BP with a separate BP weight, dense WG.

For ``Y = X (W . Mff)^T + b`` (Linear) or ``Y = conv(X, W . Mff) + b`` (Conv2d):

* FF:  ``Y`` uses the FF-masked weight ``W . Mff``;
* BP:  ``dX`` uses ``w_bp``, the weight the caller picked (``W . Mbp`` for BDWP, ``W . Mff`` for SR-STE);
* WG:  ``dW = dY^T X`` (dense, straight-through to the master weights) ``+ decay * (1 - Mff) . W``.
"""

import torch
import torch.nn.functional as F


def _decayed(grad_w, weight, mff, decay):
    """Add the SR-STE term ``decay * (1 - Mff) . W`` to a dense weight gradient."""
    if grad_w is None or decay == 0:
        return grad_w
    return grad_w + decay * weight * (~mff)


class NMLinearFn(torch.autograd.Function):
    """N:M linear layer; forward(x, weight, bias, mff, w_bp, decay)."""

    @staticmethod
    def forward(ctx, x, weight, bias, mff, w_bp, decay):
        ctx.save_for_backward(x, weight, mff, w_bp)
        ctx.decay = decay
        ctx.has_bias = bias is not None
        return F.linear(x, weight * mff, bias)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight, mff, w_bp = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_y @ w_bp
        if ctx.needs_input_grad[1]:
            grad_w = grad_y.reshape(-1, grad_y.shape[-1]).T @ x.reshape(-1, x.shape[-1])
            grad_w = _decayed(grad_w, weight, mff, ctx.decay)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.reshape(-1, grad_y.shape[-1]).sum(0)
        return grad_x, grad_w, grad_b, None, None, None


class NMConv2dFn(torch.autograd.Function):
    """N:M 2-D convolution; forward(x, weight, bias, mff, w_bp, decay, stride, padding, dilation, groups)."""

    @staticmethod
    def forward(ctx, x, weight, bias, mff, w_bp, decay, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight, mff, w_bp)
        ctx.decay = decay
        ctx.conv = (stride, padding, dilation, groups)
        ctx.bias_sizes = None if bias is None else list(bias.shape)
        return F.conv2d(x, weight * mff, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight, mff, w_bp = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conv
        want = [ctx.needs_input_grad[0], ctx.needs_input_grad[1],
                ctx.bias_sizes is not None and ctx.needs_input_grad[2]]
        # One aten call: dX is computed with w_bp; dW depends only on dY and X, never on the weight values.
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad_y, x, w_bp, ctx.bias_sizes, list(stride), list(padding), list(dilation),
            False, [0, 0], groups, want)
        grad_w = _decayed(grad_w, weight, mff, ctx.decay)
        return grad_x, grad_w, grad_b, None, None, None, None, None, None, None
