"""A small ResNet GAN in the style of Miyato et al. 2018 (SNGAN): residual blocks that double the
resolution twice in G, halve it twice in a spectrally normalised D, trained with the hinge loss.

For square images whose side is a multiple of 4 (MNIST's 28, CIFAR's 32): G starts at side/4.
"""

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.components import Discriminator as BaseDiscriminator
from ganzoo.components import Generator as BaseGenerator
from ganzoo.errors import IncompatibleError


def _check(data):
    if data.modality != "image" or len(data.shape) != 3 or data.shape[1] != data.shape[2] or data.shape[1] % 4:
        raise IncompatibleError(
            f"resnet needs square images whose side is a multiple of 4, not {'x'.join(map(str, data.shape))}."
        )


class UpBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(c_in, c_out, 3, padding=1),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1),
        )
        self.skip = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c_in, c_out, 1))

    def forward(self, x):
        return self.body(x) + self.skip(x)


class DownBlock(nn.Module):
    def __init__(self, c_in, c_out, first=False):
        super().__init__()
        layers = [] if first else [nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(
            *layers,
            spectral_norm(nn.Conv2d(c_in, c_out, 3, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(c_out, c_out, 3, padding=1)),
            nn.AvgPool2d(2),
        )
        self.skip = nn.Sequential(nn.AvgPool2d(2), spectral_norm(nn.Conv2d(c_in, c_out, 1)))

    def forward(self, x):
        return self.body(x) + self.skip(x)


class Generator(BaseGenerator):
    """z → Linear → C×(s/4)×(s/4) → two residual up-blocks → BN, ReLU, 3×3 conv → tanh."""

    modalities = ("image",)
    output = "tanh"
    defaults = {"channels": 64}
    train_defaults = {
        "latent_dim": 128,
        "prior": "normal",
        "optimizer": "adam",
        "lr": 0.0002,
        "betas": [0.0, 0.9],
        "batch_size": 64,
        "loss": "hinge",
    }

    @classmethod
    def check(cls, data):
        super().check(data)
        _check(data)

    def __init__(self, data, latent_dim, channels=64):
        super().__init__(data, latent_dim)
        c, side = channels, data.shape[1] // 4
        self.start = (c, side, side)
        self.fc = nn.Linear(latent_dim, c * side * side)
        self.blocks = nn.Sequential(UpBlock(c, c), UpBlock(c, c))
        self.out = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, data.shape[0], 3, padding=1), nn.Tanh())

    def forward(self, z):
        return self.out(self.blocks(self.fc(z).view(z.shape[0], *self.start)))


class Discriminator(BaseDiscriminator):
    """Two residual down-blocks with spectral norm → LeakyReLU → sum over space → linear logit."""

    modalities = ("image",)
    defaults = {"channels": 64}
    train_defaults = {"optimizer": "adam", "lr": 0.0002, "betas": [0.0, 0.9]}

    @classmethod
    def check(cls, data):
        super().check(data)
        _check(data)

    def __init__(self, data, channels=64):
        super().__init__(data)
        c = channels
        self.blocks = nn.Sequential(DownBlock(data.shape[0], c, first=True), DownBlock(c, c))
        self.act = nn.LeakyReLU(0.2)
        self.fc = spectral_norm(nn.Linear(c, 1))

    def forward(self, x):
        return self.fc(self.act(self.blocks(x)).sum(dim=(2, 3))).view(-1)
