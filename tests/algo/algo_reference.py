"""Independent numpy references of an N:M layer step (hand-written conv loops, masks from `nmsat.nm`)."""

import numpy as np

from nmsat.nm import nm_mask


def masks(w, pattern, method):
    """(Mff, Mbp) per the issue: Mff along input channels (axis 1), Mbp along output channels (axis 0)."""
    if method == "dense":
        ones = np.ones(w.shape, bool)
        return ones, ones
    mff = nm_mask(w, pattern, axis=1)
    return mff, (nm_mask(w, pattern, axis=0) if method == "bdwp" else mff)


def linear_step(x, w, b, dy, pattern, method, decay):
    """(Y, dX, dW) of an N:M linear layer: Y = X (W.Mff)^T + b, dX = dY (W.Mbp), dW = dY^T X + decay."""
    mff, mbp = masks(w, pattern, method)
    y = x @ (w * mff).T + b
    dx = dy @ (w * mbp)
    dw = dy.T @ x + (decay * (~mff) * w if method != "dense" else 0)
    return y, dx, dw


def conv_step(x, w, b, dy, stride, pad, pattern, method, decay):
    """(Y, dX, dW) of an N:M conv (groups 1) written as explicit loops over kernel positions."""
    mff, mbp = masks(w, pattern, method)
    wf, wb = w * mff, w * mbp
    bsz, _, h, wd = x.shape
    out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((bsz, out, ho, wo)) + b[None, :, None, None]
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + stride * (ho - 1) + 1, stride)
            cols = slice(q, q + stride * (wo - 1) + 1, stride)
            patch = xp[:, :, rows, cols]
            y += np.einsum("bchw,oc->bohw", patch, wf[:, :, p, q])
            dxp[:, :, rows, cols] += np.einsum("bohw,oc->bchw", dy, wb[:, :, p, q])
            dw[:, :, p, q] = np.einsum("bohw,bchw->oc", dy, patch)
    if method != "dense":
        dw = dw + decay * (~mff) * w
    return y, dxp[:, :, pad:pad + h, pad:pad + wd], dw
