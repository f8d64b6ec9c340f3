"""VGG-19 with batch norm: 4096-wide classifier at ImageNet size, one linear layer at CIFAR size."""

from torch import nn

_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def vgg19(channels, classes, imagenet=False):
    """VGG-19 (configuration E of Simonyan & Zisserman) with BN after each conv."""
    layers, cin = [], channels
    for v in _CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            cin = v
    if imagenet:
        head = [nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(512 * 49, 4096), nn.ReLU(inplace=True),
                nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(),
                nn.Linear(4096, classes)]
    else:
        head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(nn.Sequential(*layers), nn.Sequential(*head))
