"""Built-in models and input sizes: `MODELS` registry and `build_model(name, input)`."""

from torch import nn

from nmsat.algo.resnet import resnet9, resnet18, resnet50
from nmsat.algo.vgg import vgg19
from nmsat.algo.vit import vit_small, vit_tiny
from nmsat.errors import NmsatError

# name -> (channels, height = width, classes)
INPUTS = {"digits": (1, 8, 10), "cifar": (3, 32, 10), "imagenet": (3, 224, 1000)}


def mlp(channels, classes, size, imagenet=False):
    """MLP on the flattened image: in -> 256 -> 128 -> classes, ReLU."""
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, classes))


def digits_cnn(channels, classes, size, imagenet=False):
    """Small CNN for 8x8 digits: conv 16, conv 32, max-pool, 4x4 adaptive pool, linear 64, linear."""
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, classes))


# name -> constructor(channels, classes, size, imagenet)
MODELS = {
    "mlp": mlp,
    "digits_cnn": digits_cnn,
    "resnet9": lambda c, k, s, imagenet=False: resnet9(c, k, imagenet),
    "resnet18": lambda c, k, s, imagenet=False: resnet18(c, k, imagenet),
    "resnet50": lambda c, k, s, imagenet=False: resnet50(c, k, imagenet),
    "vgg19": lambda c, k, s, imagenet=False: vgg19(c, k, imagenet),
    "vit_tiny": vit_tiny,
    "vit_small": vit_small,
}


def input_shape(input):
    """Per-sample shape (C, H, W) of a named input size."""
    if input not in INPUTS:
        raise NmsatError(f"unknown input {input!r} (use {', '.join(INPUTS)})")
    c, s, _ = INPUTS[input]
    return (c, s, s)


def build_model(name, input="cifar"):
    """Construct built-in model `name` for input size `input` (digits, cifar or imagenet)."""
    if name not in MODELS:
        raise NmsatError(f"unknown model {name!r} (use {', '.join(MODELS)})")
    c, s, _ = input_shape(input)
    return MODELS[name](c, INPUTS[input][2], s, imagenet=input == "imagenet")
