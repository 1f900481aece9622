"""The frozen description of one training run, and what it produces. Pure data: no torch here.

The training options' defaults and the options kept out of the run id at their defaults (`ADDED_OPTION_DEFAULTS`)
come from their one declaration, `helmholtz.train.options`.

The store, the sweep and the analysis import this module, so it must stay importable without torch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from helmholtz.train.options import ADDED_OPTION_DEFAULTS as ADDED_OPTION_DEFAULTS
from helmholtz.train.options import DEFAULTS as _D

#: a codec of ``helmholtz.codecs.registry`` by name ('jpeg', 'mp3', 'webp', …), or 'none' for the original
Codec = str
Optimizer = Literal["sgd", "adadelta", "adam"]
Precision = Literal["auto", "fp32", "bf16"]
Schedule = Literal["keras_decay", "onecycle", "cosine"]
Select = Literal["best", "last"]

#: learning rate used when ``TrainOptions.lr`` is None (the paper's: SGD 0.01, Keras Adadelta 1.0)
DEFAULT_LR: dict[str, float] = {"sgd": 0.01, "adadelta": 1.0, "adam": 1e-3}
# Keras-style per-step decay: the paper set 1e-6 for its SGD; Keras' Adadelta and Adam default to none
DEFAULT_LR_DECAY: dict[str, float] = {"sgd": 1e-6, "adadelta": 0.0, "adam": 0.0}


@dataclass(frozen=True)
class DataRef:
    """Which data a run sees: the dataset as the user named it, the subset and split options, and the hash of
    the resulting uncompressed `Dataset` (so a changed file on disk changes every run id)."""

    dataset: str
    data_hash: str
    train_size: int | None = None
    test_size: int | None = None
    val_fraction: float = 0.1
    split_seed: int = 0
    sample_rate: int | None = None    # audio: clips resampled to this rate (Hz); None = the default 44.1 kHz
    duration_s: float | None = None   # audio: clips cut or padded to this length (s); None = the default 2 s
    image_column: str | None = None   # Parquet: the image column named by the user (None: detected)
    label_column: str | None = None   # Parquet: the label column named by the user (None: detected)


#: DataRef fields added after stores existed: left out of a spec's dict (and so of its hash) while unset, so the
#: run ids of earlier sweeps stay the same
OPTIONAL_DATA_FIELDS = ("sample_rate", "duration_s", "image_column", "label_column")


def data_dict(d: dict[str, Any]) -> dict[str, Any]:
    """A DataRef's dict without the unset optional fields (see `OPTIONAL_DATA_FIELDS`)."""
    return {k: v for k, v in d.items() if not (k in OPTIONAL_DATA_FIELDS and v is None)}


@dataclass(frozen=True)
class TrainOptions:
    """Training hyperparameters. Defaults are the paper's image recipe (Keras SGD, Sec. 5.2); each option's
    default, bounds and meaning are declared once in `helmholtz.train.options` (read here as ``_D``)."""

    epochs: int = _D["epochs"]                # at most this many passes over the training split
    patience: int = _D["patience"]            # epochs without a new best validation accuracy before stopping
    optimizer: Optimizer = _D["optimizer"]
    lr: float | None = _D["lr"]               # None → DEFAULT_LR[optimizer]
    lr_decay: float | None = _D["lr_decay"]   # Keras-style: lr / (1 + decay · step), per step; None → DEFAULT_LR_DECAY
    momentum: float = _D["momentum"]          # SGD only, Nesterov
    batch_size: int = _D["batch_size"]        # items per step (paper: 128 images, 50 audio clips)
    width: float = _D["width"]                # multiplier on every hidden channel and unit count
    weight_decay: float = _D["weight_decay"]  # L2 coefficient (decoupled for adam)
    label_smoothing: float = _D["label_smoothing"]  # ε of the smoothed targets
    augment: bool = _D["augment"]             # images: random shift ≤10 % and horizontal flip; audio: ignored
    precision: Precision = _D["precision"]    # auto: bf16 autocast where the device supports it, else fp32
    compile: bool = _D["compile"]             # torch.compile the model
    # Added with the recipes (train/recipes.py). At their defaults they are left out of the run id, so a spec
    # that uses none of them keeps the id it had before they existed (see `RunSpec.identity_dict`).
    recipe: str = _D["recipe"]                # the named preset that filled these values (explicit options override it)
    schedule: Schedule = _D["schedule"]       # keras_decay: lr/(1+decay·step); onecycle/cosine: anneal to 0 at the cap
    warmup_epochs: float = _D["warmup_epochs"]  # linear warm-up of the lr from 0 over this many epochs
    select: Select = _D["select"]             # the weights tested: best validation epoch (Algorithm 7.1) or the last
    # The audio front end (images ignore them): log-mel bands, the top of the mel filterbank in Hz (None: sr/2,
    # librosa's default and so the paper's 96-band features up to 22.05 kHz) and the STFT hop in samples (librosa's
    # 512: 2 s at 44.1 kHz → 173 frames). Out of the run id at these defaults.
    n_mels: int = _D["n_mels"]
    fmax_hz: float | None = _D["fmax_hz"]
    hop: int = _D["hop"]
    grad_clip: float = _D["grad_clip"]        # the gradients' global norm is clipped to this before a step (0: off)

    @property
    def resolved_lr(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    @property
    def resolved_lr_decay(self) -> float:
        return DEFAULT_LR_DECAY[self.optimizer] if self.lr_decay is None else self.lr_decay

    def identity_dict(self) -> dict[str, Any]:
        """The options as they enter the run id: every field, except the fields added after the first results
        stores were written, which are left out while they hold their default (so old run ids stay valid)."""
        d = asdict(self)
        for name, default in ADDED_OPTION_DEFAULTS.items():
            if d.get(name) == default:
                del d[name]
        return d


def _stable_hash(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: data × codec level × architecture × seed × options. Its hash is its id."""

    data: DataRef
    codec: Codec
    level: int | None                 # the codec's level (JPEG quality q, MP3 kbps, …); None = uncompressed
    arch: str                         # 'A'..'F'
    seed: int
    options: TrainOptions = field(default_factory=TrainOptions)
    modality: Literal["image", "audio"] = "image"

    @property
    def level_label(self) -> str:
        """The store's label of this run's level ('20', 'webp:40', 'none'): `codecs.registry.level_label`."""
        from helmholtz.codecs.registry import level_label

        return level_label(self.codec, self.level, check=False)

    def to_dict(self) -> dict[str, Any]:
        """Every field, the recipe's name and values included: what the store records with each result (the
        dataset's unset optional fields left out, as before they existed)."""
        d = asdict(self)
        d["data"] = data_dict(d["data"])
        return d

    def identity_dict(self) -> dict[str, Any]:
        """What the run id hashes: `to_dict` with `TrainOptions.identity_dict` for the options."""
        return {**self.to_dict(), "options": self.options.identity_dict()}

    @property
    def run_id(self) -> str:
        return _stable_hash(self.identity_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        return cls(
            data=DataRef(**d["data"]), codec=d["codec"], level=d["level"], arch=d["arch"], seed=d["seed"],
            options=TrainOptions(**d["options"]), modality=d.get("modality", "image"),
        )


@dataclass(frozen=True)
class EpochRow:
    """One epoch of one run. Accuracies are fractions in [0, 1]; ``seconds`` is the epoch's wall time."""

    epoch: int                        # 1-based
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float                         # learning rate at the end of the epoch
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """What one run measured. Test metrics come from the best-validation weights, evaluated once at the end."""

    run_id: str
    spec: dict[str, Any]
    test_acc: float
    test_loss: float
    best_val_acc: float
    best_epoch: int                   # 1-based epoch of the best validation accuracy
    epochs_to_converge: int | None    # paper heuristic, see helmholtz.train.convergence
    epochs_run: int
    stopped_early: bool
    wall_s: float
    train_items_per_s: float          # training throughput (images or clips per second)
    n_params: int
    device: str
    precision: str                    # the resolved precision: 'fp32' or 'bf16'
    versions: dict[str, str]
    code_version: str
    host: dict[str, str]
    started_at: str                   # ISO 8601, UTC
    finished_at: str
    # the predicted class of every test item, in the test split's order (uint8/uint16 numpy array): every cell of
    # a sweep is evaluated on the same items, so differences between cells can be paired over items
    test_predictions: Any = None
    n_test: int | None = None
    n_classes: int | None = None
    # the model's provenance (`models.factory.provenance`): name, width, parameter count; a factory's import path
    # and the hash of its module's source
    model: dict[str, Any] | None = None
    # the best-validation weights (torch.save bytes of the state dict) when the sweep keeps them; not stored as such
    weights: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field but the weights (bytes: the sweep writes them to their own file)."""
        d = asdict(self)
        d.pop("weights", None)
        return d
