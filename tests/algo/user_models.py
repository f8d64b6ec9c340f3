"""Factories for the bring-your-own-model tests (imported as ``user_models:<factory>``)."""

from torch import nn


def encoder():
    """One plain-torch transformer encoder layer, width 16, 2 heads, MLP 32 (input: tokens x 16)."""
    return nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)


def not_a_module():
    return 42
