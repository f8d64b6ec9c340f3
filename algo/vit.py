"""Vision Transformer (ViT / DeiT layout): patch embedding, pre-norm blocks, class-token head."""

import torch
from torch import nn

from nmsat.algo.matmul import ActMatmul


class Attention(nn.Module):
    """Multi-head self-attention; scores and context are `ActMatmul`s (dense activation GEMMs)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.scores = ActMatmul()
        self.context = ActMatmul()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = (self.scores(q, k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(-1)
        return self.proj(self.context(attn, v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm transformer block with a 4x MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """ViT: `size`x`size` images cut into `patch`x`patch` patches, `depth` blocks of width `dim`."""

    def __init__(self, channels, classes, size, patch, dim, depth, heads):
        super().__init__()
        self.patch = nn.Conv2d(channels, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])


def vit_tiny(channels, classes, size, imagenet=False):
    """ViT-Ti (DeiT-Ti): width 192, 12 blocks, 3 heads; patch 16 at ImageNet size, 4 otherwise."""
    return ViT(channels, classes, size, 16 if imagenet else 4, 192, 12, 3)


def vit_small(channels, classes, size, imagenet=False):
    """ViT-S (DeiT-S): width 384, 12 blocks, 6 heads; patch 16 at ImageNet size, 4 otherwise."""
    return ViT(channels, classes, size, 16 if imagenet else 4, 384, 12, 6)
