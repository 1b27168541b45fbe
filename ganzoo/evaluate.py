"""``ganzoo eval``: how good a generator is, measured offline against the dataset's test split.

Images are measured in a feature space: the small classifier ganzoo ships for the dataset
(:mod:`ganzoo.classifier`, TF-GAN's answer for MNIST), else torchvision's Inception-v3 when its
weights are already on the machine. Sequences are compared with real curves directly. Every
result carries its protocol (sample count, reference split, feature extractor and its hash):
a figure without one cannot be compared with anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo import env, metrics
from ganzoo import figures as names
from ganzoo.components import Dataset, DataSpec
from ganzoo.errors import MetricsError, UsageError
from ganzoo.sampling import noise, ready, rescale

#: Features kept for KID and precision/recall (Fréchet distance and the class figures use all).
KEEP = 10_000
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PR_K = 3
#: torchvision's Inception-v3 ImageNet weights, as torch.hub caches them.
INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"

#: ``sample(count, generator)``, or ``sample(count, generator, labels)`` for a conditional generator:
#: ``count`` samples in [0, 1].
Sampler = Callable[..., torch.Tensor]


@dataclass
class Extractor:
    """Images in [0, 1] → (features, logits)."""

    name: str
    sha256: str
    classes: int
    forward: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def classifier_extractor(name: str, device: torch.device) -> Extractor:
    from ganzoo.classifier import CLASSIFIERS, FEATURE_DIM, load_classifier

    model = load_classifier(name, device=str(device))
    info = CLASSIFIERS[name]
    return Extractor(
        f"ganzoo {name} classifier ({FEATURE_DIM}-d penultimate layer)",
        info.sha256,
        len(info.classes),
        model.features_and_logits,
    )


def inception_path(explicit: Path | None = None) -> Path | None:
    """The Inception-v3 weights to use: the given path, ``$GANZOO_INCEPTION_WEIGHTS``, torch's cache."""
    if explicit is not None:
        return Path(explicit)
    if (path := env.INCEPTION_WEIGHTS.path()) is not None:
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    return cached if cached.is_file() else None


def inception_extractor(path: Path, device: torch.device) -> Extractor:
    """torchvision's Inception-v3 (2048-d pool features, 1000 ImageNet logits) from a local file.

    Its FID is not the TensorFlow Inception's that papers quote (different weights, resizing);
    figures compare with other ganzoo figures, which the protocol line makes plain.
    """
    from torchvision.models import inception_v3

    from ganzoo.files import sha256_file

    if not path.is_file():
        raise MetricsError(f"The Inception-v3 weights {path} do not exist.")
    try:
        if path.suffix == ".safetensors":  # a converted copy: no unpickling at all
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:  # torchvision ships a .pth; weights_only restricts the unpickler to tensors
            state = torch.load(path, map_location="cpu", weights_only=True)
        model = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=True)
        model.load_state_dict(state)
    except Exception as exc:  # a truncated download, another network's weights, not a torch file
        raise MetricsError(
            f"{path} does not hold torchvision's Inception-v3 weights ({type(exc).__name__}); "
            f"download {INCEPTION_FILE} again."
        ) from exc
    fc = model.fc
    model.fc = torch.nn.Identity()
    model.eval().requires_grad_(False).to(device)
    fc.to(device)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

    def forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        features = model((x - mean) / std)
        return features, fc(features)

    return Extractor("torchvision Inception-v3 (2048-d pool layer)", sha256_file(path), 1000, forward)


def tensor_sha256(x: torch.Tensor) -> str:
    """The hash of a tensor's values (the cache key of reference statistics), without numpy."""
    from safetensors.torch import save

    return hashlib.sha256(save({"x": x.contiguous().cpu()})).hexdigest()


class Evaluator:
    """Measures generated samples against one dataset's reference split with a fixed protocol."""

    def __init__(
        self,
        dataset: Dataset,
        dataset_name: str,
        device: torch.device,
        n: int = 10_000,
        batch_size: int = 500,
        seed: int = 0,
        inception_weights: Path | None = None,
    ) -> None:
        if n < 2:
            raise UsageError(f"-n must be at least 2 samples, got {n}.")
        if batch_size < 1:
            raise UsageError(f"--batch-size must be a positive whole number, got {batch_size}.")
        self.dataset, self.name, self.device = dataset, dataset_name, device
        self.spec: DataSpec = dataset.spec()
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.split = "test" if "test" in dataset.splits else dataset.splits[0]
        self.extractor: Extractor | None = None
        if self.spec.modality == "image":
            if dataset.classifier is not None:
                self.extractor = classifier_extractor(dataset.classifier, device)
            else:
                path = inception_path(inception_weights)
                if path is None:
                    where = Path(torch.hub.get_dir()) / "checkpoints"
                    raise MetricsError(
                        f"ganzoo has no classifier for '{dataset_name}' and Inception-v3's weights are not "
                        f"on this machine; put {INCEPTION_FILE} in {where} "
                        f"or pass --inception-weights PATH (or set {env.INCEPTION_WEIGHTS.name})."
                    )
                self.extractor = inception_extractor(path, device)
        elif self.spec.modality != "sequence":
            raise MetricsError(
                f"ganzoo cannot evaluate '{dataset_name}': its samples are {self.spec.modality}s."
            )
        self._reference: dict[str, Any] | None = None
        # The class count of the last generator measured (0: unconditional), and the classes the
        # reference held too few samples of for a per-class FD.
        self.classes = 0
        self.unmeasured: list[str] = []

    # -- the protocol ----------------------------------------------------------------------------
    def protocol(self) -> dict[str, Any]:
        ref = self.reference()
        out: dict[str, Any] = {
            "samples": self.n,
            "seed": self.seed,
            "reference": f"{self.name} {self.split} split",
            "reference_samples": ref["n"],
        }
        if getattr(self, "truncation", 1.0) != 1.0:
            out["truncation"] = self.truncation
        if self.extractor is not None:
            out.update(
                {
                    "features": self.extractor.name,
                    "features_sha256": self.extractor.sha256,
                    "kid": (
                        f"cubic polynomial kernel on features / their RMS over the reference, "
                        f"{KID_SUBSETS} subsets of up to {KID_SUBSET_SIZE}"
                    ),
                    "precision_recall": f"k={PR_K} nearest neighbours",
                    "kid_pr_samples": min(self.n, KEEP),
                }
            )
        else:
            out.update({"mmd": "Gaussian kernel, median-heuristic bandwidth, on the raw curves"})
        if self.classes and self.extractor is not None:
            out["labels"] = f"sample i asks for class i mod {self.classes} (as many of each)"
            each = self.n // self.classes
            counts = f"{each}" if self.n % self.classes == 0 else f"{each} or {each + 1}"
            out["class_fd"] = (
                f"each class's {counts} samples against the reference split's samples of that class "
                f"(of its first {min(ref['n'], KEEP)})"
            )
            if self.unmeasured:
                out["class_fd"] += (
                    f"; none for {', '.join(self.unmeasured)}: the reference holds fewer than 2 samples of it"
                )
            if self.classifier_agrees():
                out["cond_accuracy"] = "the shipped classifier's top class equals the class asked for"
        return out

    # -- the reference split -----------------------------------------------------------------------
    def _real(self) -> torch.Tensor:
        data = self.dataset.load(self.split)
        if not isinstance(data, torch.Tensor):
            count = min(len(data), KEEP)  # type: ignore[arg-type]
            data = torch.stack([data[i] for i in range(count)])
        return rescale(data.to(torch.float32), self.spec.value_range, (0.0, 1.0)).clamp(0, 1)

    def reference(self) -> dict[str, Any]:
        """Features (or curves) of the reference split, computed once and cached on disk for images."""
        if self._reference is not None:
            return self._reference
        real = self._real()
        if self.extractor is None:
            self._reference = {"n": len(real), "curves": real[:KEEP]}
            return self._reference
        from safetensors.torch import load_file, save_file

        from ganzoo.data import cache_root
        from ganzoo.files import atomic_path

        key = f"{self.extractor.sha256[:16]}-{tensor_sha256(real)[:16]}"
        path = cache_root() / "eval" / f"{self.name.replace(':', '-')}-{self.split}-{key}.safetensors"
        if path.is_file():
            try:
                t = load_file(str(path))
                self._reference = {
                    "n": len(real),
                    "stats": metrics.Gaussian(t["mean"], t["cov"], len(real)),
                    "features": t["features"],
                }
                return self._reference
            except Exception:  # a damaged cache file is recomputed, not trusted
                pass
        stats = metrics.RunningGaussian()
        kept: list[torch.Tensor] = []
        for i in range(0, len(real), self.batch_size):
            f, _ = self._features(real[i : i + self.batch_size])
            stats.update(f)
            if i < KEEP:
                kept.append(f)
        gauss = stats.result()
        features = torch.cat(kept)[:KEEP]
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tensors = {"mean": gauss.mean, "cov": gauss.cov, "features": features.contiguous()}
            save_file(tensors, str(tmp))
        self._reference = {"n": len(real), "stats": gauss, "features": features}
        return self._reference

    @torch.inference_mode()
    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.extractor is not None
        f, logits = self.extractor.forward(x.to(self.device))
        return f.float().cpu(), logits.float().cpu()

    # -- measuring ---------------------------------------------------------------------------------
    def evaluate_generator(
        self, g: torch.nn.Module, prior: str, latent_dim: int, classes: int = 0, truncation: float = 1.0
    ) -> dict[str, Any]:
        """Figures for a generator in eval mode; its output range is its class's ``output_range``.
        ``classes``: a conditional generator's class count (0: unconditional); ``truncation``: ψ of
        the noise (:func:`ganzoo.sampling.noise`), recorded in the protocol when below 1."""
        self.truncation = truncation
        out_range = type(g).output_range()  # type: ignore[attr-defined]
        device = next(iter(g.parameters())).device

        spec = self.spec

        @torch.inference_mode()
        def sample(count: int, gen: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
            z = noise(prior, count, latent_dim, gen, device, truncation)
            x = g(z) if labels is None else g(z, labels.to(device))
            return ready(x, out_range, spec.modality, spec.value_range)

        return self.evaluate(sample, device, classes)

    def evaluate(
        self, sample: Sampler, device: torch.device | None = None, classes: int = 0
    ) -> dict[str, Any]:
        """Figures for ``sample(count, generator)``, which returns samples rescaled to [0, 1].

        ``classes`` > 0: a conditional generator, called ``sample(count, generator, labels)``; sample
        i asks for class i mod ``classes`` (as many of each), and the figures gain the conditional
        ones (:meth:`_conditional`) beside the same unconditional ones.
        """
        gen = torch.Generator(device=device or self.device)
        gen.manual_seed(self.seed)
        self.check_conditional(classes)
        ref = self.reference()
        self.classes, self.unmeasured = classes, []  # for the protocol
        if self.extractor is None:
            return self._sequences(sample, gen, ref, classes)
        stats = metrics.RunningGaussian()
        kept: list[torch.Tensor] = []
        running = metrics.RunningClasses(self.extractor.classes)
        per_class = [metrics.RunningGaussian() for _ in range(classes)]
        hits = 0
        done = 0
        while done < self.n:
            count = min(self.batch_size, self.n - done)
            labels = torch.arange(done, done + count) % classes if classes else None
            f, logits = self._features(sample(count, gen) if labels is None else sample(count, gen, labels))
            if not torch.isfinite(f).all():
                raise MetricsError(
                    "The generator produced samples whose features are not finite (NaN or inf)."
                )
            stats.update(f)
            if done < KEEP:
                kept.append(f[: KEEP - done])
            running.update(logits)
            if labels is not None:
                for c in range(classes):
                    if bool((labels == c).any()):
                        per_class[c].update(f[labels == c])
                hits += int((logits.argmax(dim=1) == labels).sum())
            done += count
        fake = torch.cat(kept)
        fd = metrics.frechet_distance(ref["stats"], stats.result())
        # The cubic kernel (a·b/d + 1)³ explodes on features far from unit scale (the classifier's
        # ReLU features have an RMS near 3): KID's variance then swamps its mean. Dividing both
        # sets by the reference's RMS puts any extractor on Inception's scale.
        scale = float(ref["features"].pow(2).mean().sqrt()) or 1.0
        kid, kid_std = metrics.kernel_inception_distance(
            ref["features"] / scale,
            fake / scale,
            subsets=KID_SUBSETS,
            subset_size=KID_SUBSET_SIZE,
            generator=_cpu_gen(self.seed),
        )
        precision, recall = metrics.precision_recall(ref["features"], fake, k=PR_K)
        score, shares = running.score(), running.shares()
        figures: dict[str, Any] = {
            "fd": fd,
            "kid": kid,
            "kid_std": kid_std,
            "precision": precision,
            "recall": recall,
        }
        if self.dataset.classifier is not None:
            figures.update(
                {
                    "classifier_score": score,
                    "classes_covered": metrics.classes_covered(shares),
                    "class_kl": metrics.kl_from_uniform(shares),
                    "class_shares": [round(float(s), 4) for s in shares],
                }
            )
        else:
            figures["inception_score"] = score
        if classes:
            figures.update(self._conditional(ref, per_class, hits))
        return {k: _round(v) for k, v in figures.items()}

    def classifier_agrees(self) -> bool:
        """Whether the feature extractor's classes are the dataset's, in order (the shipped MNIST and
        Fashion-MNIST classifiers), so its prediction can be checked against the class asked for."""
        if self.extractor is None or self.dataset.classifier is None:
            return False
        from ganzoo.classifier import CLASSIFIERS

        info = CLASSIFIERS.get(self.dataset.classifier)
        ours = [c.casefold() for c in self.spec.classes]
        return info is not None and [c.casefold() for c in info.classes] == ours

    def _conditional(
        self, ref: dict[str, Any], per_class: list[metrics.RunningGaussian], hits: int
    ) -> dict[str, Any]:
        """A conditional generator's figures: how often the shipped classifier names the class asked
        for (``cond_accuracy``), and the Fréchet distance of each class's samples to the reference
        split's samples of that class (``class_fd``) with their mean (``class_fd_mean``)."""
        out: dict[str, Any] = {}
        if self.classifier_agrees():
            out["cond_accuracy"] = hits / self.n
        labels = self.reference_labels()
        features = ref["features"]
        fds: list[float | None] = []
        for c, stats in enumerate(per_class):
            real = features[labels[: len(features)] == c]
            # A class the reference holds fewer than 2 samples of has no covariance to compare with.
            fds.append(
                None
                if len(real) < 2
                else metrics.frechet_distance(metrics.gaussian_stats(real), stats.result())
            )
        measured = [v for v in fds if v is not None]
        if measured:
            out["class_fd_mean"] = sum(measured) / len(measured)
        out["class_fd"] = [None if v is None else round(float(v), 3) for v in fds]
        self.unmeasured = [self.spec.classes[c] for c, v in enumerate(fds) if v is None]
        return out

    def check_conditional(self, classes: int) -> None:
        """Refuse, in a sentence, -n giving a class fewer than 2 samples, before any is drawn."""
        check_class_samples(self.n, classes)

    def reference_labels(self) -> torch.Tensor:
        """The class of each reference sample, in the order the reference features were computed
        (a streamed split's first :data:`KEEP`)."""
        from ganzoo.build import check_labels

        whole = len(self.dataset.load(self.split))  # type: ignore[arg-type]
        labels = check_labels(self.dataset, self.spec, self.name, whole, self.split)
        return labels[: self.reference()["n"]]

    def _sequences(
        self, sample: Sampler, gen: torch.Generator, ref: dict[str, Any], classes: int = 0
    ) -> dict[str, Any]:
        parts, done = [], 0
        while done < min(self.n, KEEP):
            count = min(self.batch_size, min(self.n, KEEP) - done)
            labels = torch.arange(done, done + count) % classes if classes else None
            parts.append((sample(count, gen) if labels is None else sample(count, gen, labels)).float().cpu())
            done += count
        fake = torch.cat(parts)
        if not torch.isfinite(fake).all():
            raise MetricsError("The generator produced curves with values that are not finite (NaN or inf).")
        # On the data's own scale (samples are, as ``ready`` makes them), so a figure means the same
        # for any generator output range; a curve overshooting the data's range is measured as it is.
        real = rescale(ref["curves"], (0.0, 1.0), self.spec.value_range)
        figures: dict[str, Any] = {"mmd": metrics.mmd_rbf(real, fake, generator=_cpu_gen(self.seed))}
        figures.update(self.dataset.eval_figures(fake, real[: len(fake)]))
        return {k: _round(v) for k, v in figures.items()}

    @property
    def figure_labels(self) -> dict[str, str]:
        """How the dataset labels the figures of its own (``Dataset.figure_labels``)."""
        return dict(self.dataset.figure_labels)

    def labels(self, figures: dict[str, Any]) -> dict[str, str]:
        """A label for each of ``figures``, ganzoo's and the dataset's own."""
        own = self.figure_labels
        return {k: own.get(k) or names.label(k) for k in figures}


def check_class_samples(n: int, classes: int, what: str = "-n ") -> None:
    """Refuse, in a sentence, ``n`` samples (``what`` names the option) that give one of ``classes``
    fewer than 2 samples: a per-class FD needs a covariance."""
    if classes and n < 2 * classes:
        raise UsageError(
            f"{what}{n} gives fewer than 2 samples of each of the {classes} classes, which the per-class "
            f"FD needs; give at least {2 * classes}."
        )


def _cpu_gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _round(v: Any) -> Any:
    return round(v, 6) if isinstance(v, float) else v
