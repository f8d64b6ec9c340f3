"""ResNet-9 (DAWNBench), ResNet-18 and ResNet-50 (torchvision v1.5 layout), CIFAR or ImageNet stem."""

from torch import nn


def _conv_bn(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """Two 3x3 convs with an identity or 1x1 shortcut."""

    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = _conv_bn(cin, width, 3, stride)
        self.conv2 = _conv_bn(width, cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return self.relu(self.conv2(self.relu(self.conv1(x))) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride, as in v1.5), 1x1 expand by 4."""

    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = _conv_bn(cin, width, 1)
        self.conv2 = _conv_bn(width, width, 3, stride)
        self.conv3 = _conv_bn(width, cout, 1)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        y = self.relu(self.conv2(self.relu(self.conv1(x))))
        return self.relu(self.conv3(y) + self.shortcut(x))


def _stem(channels, imagenet):
    if imagenet:
        return nn.Sequential(_conv_bn(channels, 64, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
    return nn.Sequential(_conv_bn(channels, 64, 3, 1), nn.ReLU(inplace=True))


class ResNet(nn.Module):
    """ResNet with `block` and stage depths `layers`; 7x7/2 + maxpool stem for ImageNet, 3x3/1 otherwise."""

    def __init__(self, block, layers, channels, classes, imagenet):
        super().__init__()
        self.stem = _stem(channels, imagenet)
        stages, cin = [], 64
        for i, depth in enumerate(layers):
            width = 64 * 2**i
            blocks = []
            for j in range(depth):
                blocks.append(block(cin, width, 2 if i > 0 and j == 0 else 1))
                cin = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.pool(self.stages(self.stem(x))).flatten(1))


class _Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.res1 = nn.Sequential(_conv_bn(c, c), nn.ReLU(inplace=True))
        self.res2 = nn.Sequential(_conv_bn(c, c), nn.ReLU(inplace=True))

    def forward(self, x):
        return x + self.res2(self.res1(x))


def resnet9(channels, classes, imagenet=False):
    """ResNet-9 of the DAWNBench CIFAR-10 entry (prep 64, 128+res, 256, 512+res, max-pool, linear)."""

    def down(cin, cout):
        return nn.Sequential(_conv_bn(cin, cout), nn.ReLU(inplace=True), nn.MaxPool2d(2))

    stem = nn.Sequential(_conv_bn(channels, 64), nn.ReLU(inplace=True))
    if imagenet:
        stem = nn.Sequential(_conv_bn(channels, 64, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
    return nn.Sequential(stem, down(64, 128), _Residual(128), down(128, 256), down(256, 512), _Residual(512),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(512, classes))


def resnet18(channels, classes, imagenet=False):
    """ResNet-18: basic blocks [2, 2, 2, 2]."""
    return ResNet(BasicBlock, [2, 2, 2, 2], channels, classes, imagenet)


def resnet50(channels, classes, imagenet=False):
    """ResNet-50: bottleneck blocks [3, 4, 6, 3]."""
    return ResNet(Bottleneck, [3, 4, 6, 3], channels, classes, imagenet)
