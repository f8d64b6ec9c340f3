"""scikit-learn's digits (8x8 grey images, 10 classes, shipped with sklearn): one fixed train/test split."""

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_SEED = 0
TEST_FRACTION = 0.2


def digits():
    """(x_train, y_train, x_test, y_test): x float32 [N, 1, 8, 8] scaled to [0, 1], y int64.

    The split is stratified and fixed (seed 0, 20 % test): 1437 train and 360 test images.
    """
    data = load_digits()
    x = (data.images.astype(np.float32) / 16.0)[:, None]
    xtr, xte, ytr, yte = train_test_split(x, data.target, test_size=TEST_FRACTION,
                                          random_state=SPLIT_SEED, stratify=data.target)
    return (torch.from_numpy(xtr), torch.from_numpy(ytr).long(),
            torch.from_numpy(xte), torch.from_numpy(yte).long())
