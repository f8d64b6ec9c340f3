"""Autograd functions of the N:M layers: FF with ``W . Mff``, BP with a separate BP weight, dense WG.

For ``Y = X (W . Mff)^T + b`` (Linear) or ``Y = conv(X, W . Mff) + b`` (Conv2d):

* FF:  ``Y`` uses ``w_ff``, the FF-masked weight ``W . Mff``;
* BP:  ``dX`` uses ``w_bp``, the weight the caller picked (``W . Mbp`` for BDWP, ``W . Mff`` for SR-STE);
* WG:  ``dW = dY^T X`` (dense, straight-through to the master weights) ``+ decay * (1 - Mff) . W``.
"""

import torch
import torch.nn.functional as F


def _decayed(grad_w, weight, w_ff, decay):
    """Add the SR-STE term ``decay * (1 - Mff) . W = decay * (W - W . Mff)`` to a dense weight gradient."""
    if grad_w is None or decay == 0:
        return grad_w
    return grad_w.add_(weight - w_ff, alpha=decay)


class NMLinearFn(torch.autograd.Function):
    """N:M linear layer; forward(x, weight, bias, w_ff, w_bp, decay) with ``w_ff = W . Mff``."""

    @staticmethod
    def forward(ctx, x, weight, bias, w_ff, w_bp, decay):
        ctx.save_for_backward(x, weight, w_ff, w_bp)
        ctx.decay = decay
        ctx.has_bias = bias is not None
        return F.linear(x, w_ff, bias)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight, w_ff, w_bp = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_y @ w_bp
        if ctx.needs_input_grad[1]:
            grad_w = grad_y.reshape(-1, grad_y.shape[-1]).T @ x.reshape(-1, x.shape[-1])
            grad_w = _decayed(grad_w, weight, w_ff, ctx.decay)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.reshape(-1, grad_y.shape[-1]).sum(0)
        return grad_x, grad_w, grad_b, None, None, None


class NMConv2dFn(torch.autograd.Function):
    """N:M 2-D convolution; forward(x, weight, bias, w_ff, w_bp, decay, stride, padding, dilation, groups)."""

    @staticmethod
    def forward(ctx, x, weight, bias, w_ff, w_bp, decay, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight, w_ff, w_bp)
        ctx.decay = decay
        ctx.conv = (stride, padding, dilation, groups)
        ctx.bias_sizes = None if bias is None else list(bias.shape)
        return F.conv2d(x, w_ff, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight, w_ff, w_bp = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conv
        want = [ctx.needs_input_grad[0], ctx.needs_input_grad[1],
                ctx.bias_sizes is not None and ctx.needs_input_grad[2]]
        # One aten call: dX is computed with w_bp; dW depends only on dY and X, never on the weight values.
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad_y, x, w_bp, ctx.bias_sizes, list(stride), list(padding), list(dilation),
            False, [0, 0], groups, want)
        grad_w = _decayed(grad_w, weight, w_ff, ctx.decay)
        return grad_x, grad_w, grad_b, None, None, None, None, None, None, None
