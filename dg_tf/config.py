"""The configuration of a DoppelGANger model and its training run, in three groups.

- :class:`ModelConfig`: what the networks and the data encoding are (sizes,
  noise, normalization, seed, precision). Saved with the model and fixed once
  it is trained: ``load`` and ``--resume`` refuse to change it. The only part
  of the configuration the networks see.
- :class:`TrainingConfig`: how the weights are fitted (epochs, batch, Adam,
  loss weights, differential privacy, checkpoints). Saved with the run; a
  resumed run may change it, except what the privacy accounting assumes.
- :class:`RuntimeConfig`: how this process executes (XLA, LSTM kernels,
  compiled chunks, input pipeline, devices, generation batch). It may change
  on ``--resume`` and be overridden on ``load``.

:class:`DGConfig` holds one of each and is also a flat facade over them:
``DGConfig(sample_len=8, epochs=400)``, ``config.epochs`` and
``config.replace(epochs=10)`` name fields directly (every field name is unique
across the groups), ``config.json`` is the flat ``to_dict()`` (so the files of
earlier runs load unchanged), and every field is a command-line flag. The
defaults are the paper's (Lin et al., IMC 2020, §4 and appendix B); each lives
here only. No TensorFlow import here.

``sample_len`` is decided here (:meth:`ModelConfig.resolved_sample_len` for a
dataset, :func:`padding_sample_len` for a table that will be padded) and
checked by :func:`~dg_tf.data.validation.check_sample_len` only.

This module is longer than 400 lines because it is every field's documentation:
the three groups' docstrings are the reference of all hyperparameters, and
their defaults must live in one place.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal, Mapping

from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.fileio import read_json
from dg_tf.limits import brief

__all__ = [
    "DGConfig",
    "ModelConfig",
    "TrainingConfig",
    "RuntimeConfig",
    "auto_sample_len",
    "padding_sample_len",
]

logger = logging.getLogger(__name__)

LSTMInitialState = Literal["random", "zero", "learned"]
JitCompile = Literal["auto", "on", "off"]
InputPipeline = Literal["in_graph", "tf_data"]
Strategy = Literal["default", "mirrored", "multi-worker"]
Precision = Literal["float32", "mixed_bfloat16", "mixed_float16"]
AuxCriticInput = Literal["probabilities", "one_hot", "both"]

#: Target number of LSTM passes T = L / S for the automatic sample_len (paper §4.4:
#: "setting S so that T/S ... is around 50 gives good results").
TARGET_ROLLOUTS = 50
#: Every integer field must be below this: TensorFlow takes sizes and counts as int32.
MAX_INT = 2**31


class _Group:
    """Field checks shared by the three groups: types, finiteness, ranges named by the subclass."""

    #: Fields that must be > 0, and >= 0.
    POSITIVE: ClassVar[tuple[str, ...]] = ()
    NON_NEGATIVE: ClassVar[tuple[str, ...]] = ()
    #: Fields that must lie in [0, 1).
    FRACTIONS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            expected = hints[field.name]
            if _accepts_float(expected) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value) if abs(value) < MAX_INT else math.inf
                object.__setattr__(self, field.name, value)
            if not _matches(value, expected):
                raise ConfigError(f"{field.name}={brief(value)} must be of type {_type_name(expected)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{field.name}={brief(getattr(self, field.name))} must be a finite number")
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
                raise ConfigError(f"{field.name}={brief(value)} must be below 2**31 (TensorFlow's int32 sizes)")
        for name in self.POSITIVE:
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be > 0")
        for name in self.NON_NEGATIVE:
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be >= 0")
        for name in self.FRACTIONS:
            if getattr(self, name) is not None and not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must lie in [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModelConfig(_Group):
    """The networks and the data encoding (paper appendix B): saved, fixed once trained.

    Structure:
        sample_len: S, records generated per LSTM pass (§4.1, batch generation).
            ``None`` picks the divisor of the series length L whose number of
            passes L/S is closest to 50, the paper's advice (§4.4).
        attribute_noise_dim: width of the noise of the attribute generator.
        addi_attribute_noise_dim: width of the noise of the min/max generator.
        feature_noise_dim: width of the noise fed to each LSTM pass. Default
            20, not the paper's 5: with ``aux_critic_probabilities_and_one_hot``
            it was the one setting measured on the four datasets of
            ``benchmarks.fidelity`` (16 seeds each) with which dg_tf's median
            beats the peer's on every measure of every dataset but one
            (BasicMotions' attribute TV, below the real-vs-real floor there);
            it costs PickupGesture's classification accuracy (README, "Design
            and defaults", note 12; ``benchmarks/README.md``, e22).
        attribute_hidden_layers / attribute_hidden_units: hidden Dense+ReLU+BatchNorm
            blocks of both attribute MLPs.
        feature_lstm_layers / feature_lstm_units: the feature generator's LSTM.
        critic_hidden_layers / critic_hidden_units: hidden Dense+ReLU layers of the critic.
        aux_critic_hidden_layers / aux_critic_hidden_units: same for the auxiliary critic.
        chained_attributes: the attribute generator's heads run one after
            another in column order, each also given the values generated for
            the attributes before it (a linear term from their one-hot
            encodings to its logits, :class:`~dg_tf.models.layers.OutputHeads`);
            the original outputs every attribute from the MLP at once. On FCC
            MBA this learns the joint distribution of the attributes better
            (README, "Where dg_tf deliberately differs", item 10).
        use_aux_critic: build (and train) the auxiliary attribute critic (§4.3).
        num_packing: PacGAN packing degree of the critics' inputs (1 = off).
        lstm_initial_state: "random" (N(0,1) per call, as the original), "zero" or
            "learned" (a trained vector, init N(0, 0.02)).
        batch_norm_momentum / batch_norm_epsilon: of the attribute MLPs' BatchNorm
            (TF1 decay 0.9, eps 1e-5; Keras' defaults differ).
        length_floor: no generated series is shorter than the shortest
            training series: when generating, stop flags before that step are
            ignored (training sees the flags as the original does). Lengths
            are learned from the data either way; when every training series
            has the same length there are no flags and every generated series
            has that length.

    Transformation:
        self_norm: auto-normalization (§4.2): per-sample min/max become two
            generated "additional attributes" per continuous feature column.
        self_norm_eps: widening of each per-sample min/max (original: 1e-4).
        self_norm_within_range: generate each half range as a fraction of the
            room its midpoint leaves inside the feature's declared range, so
            every generated value lies in that range (the original's pairs
            can overshoot it, and decoding then clips).

    Numerics:
        seed: seeds every random draw (weights, noise, batches, penalty mixing).
        precision: "float32", or Keras mixed precision "mixed_bfloat16" /
            "mixed_float16" (float32 variables, low-precision compute, the
            latter with dynamic loss scaling). Not with DP.
    """

    sample_len: int | None = None
    attribute_noise_dim: int = 5
    addi_attribute_noise_dim: int = 5
    feature_noise_dim: int = 20
    attribute_hidden_layers: int = 2
    attribute_hidden_units: int = 100
    feature_lstm_layers: int = 1
    feature_lstm_units: int = 100
    critic_hidden_layers: int = 4
    critic_hidden_units: int = 200
    aux_critic_hidden_layers: int = 4
    aux_critic_hidden_units: int = 200
    chained_attributes: bool = True
    use_aux_critic: bool = True
    num_packing: int = 1
    lstm_initial_state: LSTMInitialState = "random"
    batch_norm_momentum: float = 0.9
    batch_norm_epsilon: float = 1e-5
    length_floor: bool = True
    self_norm: bool = True
    self_norm_eps: float = 1e-4
    self_norm_within_range: bool = False
    seed: int = 0
    precision: Precision = "float32"

    POSITIVE = ("sample_len", "attribute_noise_dim", "addi_attribute_noise_dim", "feature_noise_dim",
                "attribute_hidden_units", "feature_lstm_layers", "feature_lstm_units", "critic_hidden_units",
                "aux_critic_hidden_units", "num_packing", "self_norm_eps", "batch_norm_epsilon")
    NON_NEGATIVE = ("attribute_hidden_layers", "critic_hidden_layers", "aux_critic_hidden_layers", "seed")
    FRACTIONS = ("batch_norm_momentum",)

    def resolved_sample_len(self, max_length: int) -> int:
        """The sample_len S for series of padded length ``max_length``: the one decision of S for a dataset.

        The one check that it divides ``max_length`` is
        :func:`~dg_tf.data.validation.check_sample_len` (the encoding calls both).
        """
        return self.sample_len if self.sample_len is not None else auto_sample_len(max_length)


@dataclasses.dataclass(frozen=True)
class TrainingConfig(_Group):
    """How the weights are fitted (paper §4.3, appendix B; §6.2 for privacy): saved, may change on resume.

    Loss:
        aux_critic_weight: alpha, weight of the auxiliary critic in the generator loss.
        aux_critic_straight_through: the auxiliary critic (and the attribute
            critic of ``retrain_attributes``) scores the generated discrete
            attributes as generation outputs them, one-hot (the argmax), with
            the straight-through gradient of their probabilities (Bengio et
            al., 2013), instead of the probabilities themselves (the original).
            The critic then judges exactly the label combinations that are
            generated. The critic of features and attributes sees the
            probabilities either way. Takes precedence over
            ``aux_critic_probabilities_and_one_hot`` (:attr:`aux_critic_input`).
            Off by default: across the four datasets of ``benchmarks.fidelity``
            it helped three (FCC MBA's attributes, ACSF1's and PickupGesture's
            autocorrelation) and hurt BasicMotions (classification accuracy
            0.70 -> 0.47); on FCC MBA's several attributes, for conditional
            generation, it fits their joint distribution better (README,
            "Conditioning on labels"), but on two other datasets given a second
            attribute it made the attributes worse (``benchmarks/README.md``, e30).
        aux_critic_probabilities_and_one_hot: the auxiliary critic (and the
            attribute critic of ``retrain_attributes``) scores both views of
            the generated attributes side by side, ``[probabilities, one-hot
            of the discrete ones]`` (the second with the straight-through
            gradient), and the real ones as ``[attributes, their discrete
            part]``. The probabilities keep the pressure towards confident
            labels that the original's critic gives; the one-hot part lets it
            judge the label combinations that generation outputs. Widens that
            critic's input by the width of the discrete and continuous real
            attributes, so neither it nor ``aux_critic_straight_through`` (which
            replaces both views by the one-hot one) can change on resume. On
            by default (runs saved before it existed load with it off): alone
            it lowered FCC MBA's attribute TV (0.088 -> 0.067) without the
            straight-through option's cost to BasicMotions (e21), and with
            ``feature_noise_dim=20`` it brings ACSF1's autocorrelation error
            below the peer's while keeping FCC MBA's attributes
            (``benchmarks/README.md``, e22).
        critic_probabilities_and_one_hot: the critic of features and
            attributes scores the generated attributes as ``[probabilities,
            one-hot of the discrete ones]`` (the second with the
            straight-through gradient), and the real ones as ``[attributes,
            their discrete part]``, instead of the probabilities alone (the
            original). It then judges each series beside the label that
            generation outputs with it, not only beside the probabilities.
            Widens that critic's input, so it cannot change on resume. Off
            by default: with ``aux_critic_straight_through`` it gives back
            BasicMotions' classification accuracy that the latter costs
            (0.45 -> 0.625) but costs ACSF1's per-label statistics; against
            the defaults it helps FCC MBA and hurts ACSF1
            (``benchmarks/README.md``, e26 and e28).
        gradient_penalty_weight / aux_gradient_penalty_weight: WGAN-GP lambda of
            the critic and the auxiliary critic.

    Optimization:
        epochs: passes over the data; each has N // batch_size steps.
        batch_size: samples per step, drawn with replacement (as the original);
            with DP, the expected size of each Poisson sample.
        critic_rounds / generator_rounds: critic and generator updates per step.
        generator_lr / critic_lr / aux_critic_lr, adam_beta1, adam_beta2,
            adam_epsilon: Adam per network (TF1's epsilon 1e-8).
        generator_ema: momentum, per generator update, of an exponential
            moving average of the generator's weights (Yazici et al., "The
            unusual effectiveness of averaging in GAN training", ICLR 2019;
            BigGAN); when training ends the generator takes the average, so
            generation uses it (with DP, post-processing of the generator's
            weights: epsilon unchanged). It is the generator optimizer's state
            and is checkpointed with it. ``None``: the last weights (the original).
            Default 0.99 (with ``standing_statistics``): chosen on the four
            datasets of ``benchmarks.fidelity`` (README, "Design and defaults").

    Privacy (:mod:`dg_tf.training.dp`, :mod:`dg_tf.privacy_accounting`):
        dp_noise_multiplier: sigma of DP-SGD on both critics; ``None`` trains
            without differential privacy. With it, each critic update uses a
            Poisson sample (each example independently with probability
            ``batch_size / N``), per-example gradients clipped to ``dp_l2_clip``
            and Gaussian noise of standard deviation ``sigma * dp_l2_clip``.
        dp_l2_clip: C, the per-example L2 clipping norm of each critic's gradient.
        dp_delta: the delta at which the spent epsilon is reported.

    After training:
        standing_statistics: at the end of ``fit`` and ``retrain_attributes``,
            set the generator's BatchNorm statistics to the mean batch
            statistics of 100 training-mode passes at the final weights
            (BigGAN's standing statistics, :mod:`dg_tf.training.standing`)
            instead of the moving averages of the last steps, which belong
            to the last weights rather than to ``generator_ema``'s average.

    Bookkeeping:
        checkpoint_every: epochs between checkpoints (the last epoch always is one).
        checkpoints_to_keep: checkpoints kept on disk.
        figure_every: epochs between TensorBoard figures of generated series
            (0 = never).
    """

    epochs: int = 400
    batch_size: int = 100
    critic_rounds: int = 1
    generator_rounds: int = 1
    generator_lr: float = 1e-3
    critic_lr: float = 1e-3
    aux_critic_lr: float = 1e-3
    adam_beta1: float = 0.5
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    generator_ema: float | None = 0.99
    aux_critic_weight: float = 1.0
    aux_critic_straight_through: bool = False
    aux_critic_probabilities_and_one_hot: bool = True
    critic_probabilities_and_one_hot: bool = False
    gradient_penalty_weight: float = 10.0
    aux_gradient_penalty_weight: float = 10.0
    dp_noise_multiplier: float | None = None
    dp_l2_clip: float = 1.0
    dp_delta: float = 1e-5
    standing_statistics: bool = True
    checkpoint_every: int = 50
    checkpoints_to_keep: int = 5
    figure_every: int = 50

    POSITIVE = ("epochs", "batch_size", "critic_rounds", "generator_rounds", "checkpoint_every",
                "checkpoints_to_keep", "generator_lr", "critic_lr", "aux_critic_lr", "adam_epsilon", "dp_l2_clip")
    NON_NEGATIVE = ("aux_critic_weight", "gradient_penalty_weight",
                    "aux_gradient_penalty_weight", "figure_every", "dp_noise_multiplier")
    FRACTIONS = ("adam_beta1", "adam_beta2", "generator_ema")
    #: What a resumed run may not change: the privacy accounting assumes one sigma and clip for the whole run,
    #: and, with DP, one sampling probability (batch_size / N) and one number of critic steps per step; the
    #: generator's average is optimizer state that a checkpoint holds or lacks, and averages one momentum;
    #: the critics' input widths follow :attr:`aux_critic_input` and ``critic_probabilities_and_one_hot``.
    FIXED_ON_RESUME = ("dp_noise_multiplier", "dp_l2_clip", "generator_ema", "aux_critic_straight_through",
                       "aux_critic_probabilities_and_one_hot", "critic_probabilities_and_one_hot")
    FIXED_ON_RESUME_WITH_DP = ("batch_size", "critic_rounds")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.dp_delta < 1.0:
            raise ConfigError(f"dp_delta={self.dp_delta!r} must lie in (0, 1)")

    @property
    def differentially_private(self) -> bool:
        return self.dp_noise_multiplier is not None

    @property
    def aux_critic_input(self) -> AuxCriticInput:
        """What the auxiliary critic scores of the attributes: ``"one_hot"`` (``aux_critic_straight_through``),
        else ``"both"`` (``aux_critic_probabilities_and_one_hot``), else ``"probabilities"`` (the original)."""
        if self.aux_critic_straight_through:
            return "one_hot"
        return "both" if self.aux_critic_probabilities_and_one_hot else "probabilities"


@dataclasses.dataclass(frozen=True)
class RuntimeConfig(_Group):
    """How this process runs the model (:mod:`dg_tf.models.lstm`, :mod:`dg_tf.training`).

    Saved with a run, and free to change: on ``--resume``, and on ``load``
    (:meth:`DGConfig.loaded_with`). Results change by float rounding at most,
    except where noted.

    jit_compile: compile the training step and generation with XLA. "auto"
        compiles whole steps on GPUs only (on CPUs XLA's sigmoid/tanh are
        several times slower than TensorFlow's kernels, measured) and, on CPUs,
        only the small integer/select helper of the training step's flag
        masking; "off" uses no XLA at all. Not "on" with DP (its
        Poisson batches have data-dependent shapes).
    lstm_batch_splits: the (non-XLA) LSTM of training runs as this many
        independent kernels over parts of the batch, which TensorFlow runs
        concurrently (same result up to float rounding); 1 = one kernel,
        ``None`` = one per core the process may use
        (:func:`dg_tf.runtime.available_cores`), with
        :func:`dg_tf.runtime.configure_cpu_threads` the fastest on CPUs
        (measured in ``benchmarks/``: on 2 cores a batch-100 step took 15%
        less time with 2 than with 4, a batch-1000 step the same).
    generate_row_groups: generation runs each batch as this many groups of
        rows, each a whole forward pass, which TensorFlow runs concurrently
        (same result up to float rounding); ``None`` = one per core the
        process may use (:func:`dg_tf.runtime.available_cores`), with
        :func:`dg_tf.runtime.configure_cpu_threads` the fastest on CPUs
        (measured in ``benchmarks/``: 2 groups on 2 cores generated 15 to 20%
        faster than 4).
    steps_per_execution: training steps run by one compiled call (a
        ``tf.while_loop``, metrics summed on the device); ``None`` = a whole
        epoch per call. ``on_train_batch_end`` callbacks fire after each call.
    input_pipeline: "in_graph" draws each batch's row indices inside the step
        from the checkpointed generator and gathers from the data held on the
        device; "tf_data" feeds gathered batches through a prefetching
        ``tf.data`` pipeline whose indices are a function of (seed, step), for
        data better kept on the host. Both are with replacement and resume
        bit-identically; they draw different batches (other results). Not
        with DP.
    strategy: "default" (one device), "mirrored" (all local GPUs, or all
        logical CPU devices without GPUs) or "multi-worker" (workers from
        ``TF_CONFIG``): each step's global batch is split evenly across the
        replicas (``batch_size`` must divide by their number), gradients are
        summed, BatchNorm statistics are synchronized. Not with DP. A loaded
        model runs on one device unless told otherwise.
    generate_batch_size: samples generated per forward pass; the noise is
        drawn per batch, so the series of a seed depend on it.
    generate_batches_per_call: batches one compiled call of ``generate``
        runs while at least that many remain (then the largest power of two
        that remains, so a process traces a few batch counts only). They are
        independent, so TensorFlow overlaps them and one batch's work fills
        the cores while another's sequential LSTM steps leave them idle. The
        same output, bitwise (measured in ``benchmarks/``: on 2 cores FCC MBA
        generated 12% faster with 2 per call and 19% with 4 than with 1).
    generate_early_exit: generation stops the LSTM of a group of rows once
        every series in it has ended (the skipped passes are the zeros the
        full rollout would mask them to: the same output, bitwise). False
        rolls out all L/S passes, as gretel's DGAN always does (for
        like-for-like speed comparisons, ``benchmarks/``).
    """

    jit_compile: JitCompile = "auto"
    lstm_batch_splits: int | None = None
    generate_row_groups: int | None = None
    steps_per_execution: int | None = None
    input_pipeline: InputPipeline = "in_graph"
    strategy: Strategy = "default"
    generate_batch_size: int = 1000
    generate_batches_per_call: int = 4
    generate_early_exit: bool = True

    POSITIVE = ("lstm_batch_splits", "generate_row_groups", "steps_per_execution", "generate_batch_size",
                "generate_batches_per_call")


#: The groups of :class:`DGConfig`, by attribute name.
GROUPS: dict[str, type[_Group]] = {"model": ModelConfig, "training": TrainingConfig, "runtime": RuntimeConfig}
#: Each field's group (field names are unique across the groups).
FIELD_GROUP: dict[str, str] = {f.name: group for group, cls in GROUPS.items() for f in dataclasses.fields(cls)}
#: With DP these must keep their plain values (checked by :class:`DGConfig`).
_PLAIN_WITH_DP = {"jit_compile": ("auto", "off"), "input_pipeline": ("in_graph",), "strategy": ("default",),
                  "precision": ("float32",)}


class DGConfig:
    """Every hyperparameter of DoppelGANger: a :class:`ModelConfig`, a :class:`TrainingConfig`, a :class:`RuntimeConfig`.

    Build it flat or by group, read it flat or by group::

        DGConfig(sample_len=8, epochs=400)                     # flat fields, the rest defaults
        DGConfig(model=ModelConfig(sample_len=8), training=TrainingConfig(epochs=400))
        config.epochs == config.training.epochs

    Immutable: :meth:`replace` returns a validated copy. Cross-group rules
    (differential privacy needs ``num_packing=1``, float32, one device and
    no forced XLA) are checked here.

    Raises:
        ConfigError: an unknown field or an invalid value, naming the field.
    """

    __slots__ = ("model", "training", "runtime")
    model: ModelConfig
    training: TrainingConfig
    runtime: RuntimeConfig

    def __init__(
        self,
        model: ModelConfig | None = None,
        training: TrainingConfig | None = None,
        runtime: RuntimeConfig | None = None,
        **fields: Any,
    ):
        groups: dict[str, Any] = {"model": model, "training": training, "runtime": runtime}
        for name, group in groups.items():
            if group is None:
                groups[name] = GROUPS[name]()
            elif not isinstance(group, GROUPS[name]):
                raise ConfigError(f"{name}={brief(group)} must be a {GROUPS[name].__name__}")
        unknown = sorted(set(fields) - set(FIELD_GROUP))
        if unknown:
            raise ConfigError(f"unknown config field(s): {brief(', '.join(map(str, unknown)), 200)}")
        for name, group in groups.items():
            changes = {key: value for key, value in fields.items() if FIELD_GROUP[key] == name}
            if changes:
                groups[name] = dataclasses.replace(group, **changes)
        for name, group in groups.items():
            object.__setattr__(self, name, group)
        self._check_combination()

    def _check_combination(self) -> None:
        if self.training.dp_noise_multiplier is None:
            return
        if self.model.num_packing != 1:
            raise ConfigError(f"num_packing={self.model.num_packing} must be 1 with dp_noise_multiplier set "
                              "(DP-SGD clips one example at a time)")
        for name, allowed in _PLAIN_WITH_DP.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}={getattr(self, name)!r} is not supported with dp_noise_multiplier set "
                                  f"(use {' or '.join(map(repr, allowed))})")

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}; use replace()")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DGConfig):
            return NotImplemented
        return (self.model, self.training, self.runtime) == (other.model, other.training, other.runtime)

    def __hash__(self) -> int:
        return hash((self.model, self.training, self.runtime))

    def __repr__(self) -> str:
        return f"DGConfig(model={self.model!r}, training={self.training!r}, runtime={self.runtime!r})"

    def __reduce__(self) -> tuple:
        return DGConfig, (self.model, self.training, self.runtime)

    @classmethod
    def field_names(cls) -> list[str]:
        """Every field, flat, in group order (model, training, runtime)."""
        return list(FIELD_GROUP)

    def replace(self, **changes: Any) -> "DGConfig":
        """A copy with ``changes`` (flat fields, or whole groups by name) applied, validated like a new config."""
        groups = {name: changes.pop(name, getattr(self, name)) for name in GROUPS}
        return DGConfig(**groups, **changes)

    def loaded_with(self, runtime: RuntimeConfig | Mapping[str, Any] | None = None) -> "DGConfig":
        """The config a model saved with this one runs with when loaded (:meth:`DoppelGANger.load`).

        The model and training settings are kept. So are the runtime
        settings, except ``strategy``: it names the machines the run trained
        on, so a loaded model runs on this process's one device. ``runtime``
        (a whole :class:`RuntimeConfig`, or some of its fields) overrides them.

        Raises:
            ConfigError: ``runtime`` names a model or training field (they are
                part of what was trained, not of how this process runs it).
        """
        if isinstance(runtime, RuntimeConfig):
            return self.replace(runtime=runtime)
        runtime = {} if runtime is None else runtime
        if not isinstance(runtime, Mapping):
            raise ConfigError(f"runtime={brief(runtime)} must be a RuntimeConfig or a dict of its fields")
        fixed = sorted(name for name in runtime if FIELD_GROUP.get(name) in ("model", "training"))
        if fixed:
            raise ConfigError(f"{', '.join(fixed)}: not a runtime setting; a loaded model keeps the model and "
                              "training settings it was trained with")
        return self.replace(**{"strategy": "default", **runtime})

    def resumed_with(self, changes: Mapping[str, Any]) -> "DGConfig":
        """This (a run's saved) config with the ``changes`` of a resumed run, each logged.

        Training and runtime settings may change; model settings may not, nor
        the training settings the privacy accounting assumes
        (:attr:`TrainingConfig.FIXED_ON_RESUME`, and with DP
        :attr:`TrainingConfig.FIXED_ON_RESUME_WITH_DP`).

        Raises:
            ConfigError: a change to a fixed field, naming each with its saved
                and requested values and why it is fixed.
        """
        new = self.replace(**changes)
        changed = [name for name in FIELD_GROUP if getattr(self, name) != getattr(new, name)]
        fixed = [name for name in changed if FIELD_GROUP[name] == "model"]
        private = set(TrainingConfig.FIXED_ON_RESUME)
        if self.training.differentially_private:
            private |= set(TrainingConfig.FIXED_ON_RESUME_WITH_DP)
        fixed += [name for name in changed if name in private]
        if fixed:
            shown = ", ".join(f"{n} ({getattr(self, n)!r} -> {getattr(new, n)!r})" for n in sorted(fixed))
            raise ConfigError(
                f"--resume cannot change {shown}: the run's networks, data encoding, random streams, optimizer "
                "state or privacy accounting depend on them; start a new run (another --out) instead"
            )
        for name in changed:
            logger.info("resume: %s changed from %r to %r", name, getattr(self, name), getattr(new, name))
        return new

    def resolved_sample_len(self, max_length: int) -> int:
        """:meth:`ModelConfig.resolved_sample_len` of this config's model."""
        return self.model.resolved_sample_len(max_length)

    def to_dict(self) -> dict[str, Any]:
        """Every field, flat (the layout of ``config.json``)."""
        return {name: getattr(self, name) for name in FIELD_GROUP}

    @classmethod
    def from_dict(cls, data: Any, absent: Mapping[str, Any] | None = None) -> "DGConfig":
        """Build a config from a flat dict (or one with ``model``/``training``/``runtime`` sub-dicts).

        Missing fields take their value in ``absent`` (flat names), else their
        defaults; unknown keys are an error naming them.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        flat = {key: value for key, value in data.items() if key not in GROUPS}
        for name in GROUPS:
            group = data.get(name, {})
            if not isinstance(group, dict):
                raise ConfigError(f"{name} must be a JSON object of {GROUPS[name].__name__} fields")
            misplaced = sorted(key for key in group if FIELD_GROUP.get(key) != name)
            if misplaced:
                raise ConfigError(f"{name}: unknown {GROUPS[name].__name__} field(s): {brief(', '.join(misplaced), 200)}")
            flat.update(group)
        return cls(**{**(absent or {}), **flat})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "DGConfig":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_file(cls, path: str | Path, absent: Mapping[str, Any] | None = None) -> "DGConfig":
        """Read a JSON config file (bounded, see :func:`dg_tf.fileio.read_json`); errors name the file.

        Args:
            path: the file.
            absent: values of fields the file does not set, instead of their
                defaults (flat names).

        Raises:
            ConfigError: the file is missing, not a regular file, not JSON, or
                holds an invalid config; the message starts with the path.
        """
        try:
            return cls.from_dict(read_json(path), absent)
        except DataFormatError as err:
            raise ConfigError(str(err)) from None
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None


def _flat_property(group: str, name: str) -> property:
    return property(lambda self: getattr(getattr(self, group), name),
                    doc=f"``{group}.{name}`` (see :class:`{GROUPS[group].__name__}`).")


for _name, _group in FIELD_GROUP.items():
    setattr(DGConfig, _name, _flat_property(_group, _name))


def auto_sample_len(max_length: int) -> int:
    """The divisor S of ``max_length`` whose number of LSTM passes L/S is closest to 50.

    Ties go to the smaller S (more passes, easier per-pass generation), paper §4.4.
    """
    if max_length < 1:
        raise ConfigError(f"max_length={max_length} must be >= 1")
    divisors = [s for s in range(1, max_length + 1) if max_length % s == 0]
    return min(divisors, key=lambda s: (abs(max_length / s - TARGET_ROLLOUTS), s))


def padding_sample_len(max_length: int) -> int:
    """S for data that will be padded to a multiple of S: about 50 LSTM passes.

    Tables have arbitrary lengths (a prime length has no useful divisor), so
    instead of a divisor of ``max_length`` (:func:`auto_sample_len`) this
    picks ``S = max(1, round(max_length / 50))`` and the data is padded up to
    ``ceil(max_length / S) * S`` steps (paper §4.4: T/S around 50).
    """
    if max_length < 1:
        raise ConfigError(f"max_length={max_length} must be >= 1")
    return max(1, round(max_length / TARGET_ROLLOUTS))


def _accepts_float(expected: Any) -> bool:
    """``expected`` is ``float`` or a union containing it (an int given there is converted)."""
    return expected is float or float in typing.get_args(expected)


def _matches(value: Any, expected: Any) -> bool:
    origin = typing.get_origin(expected)
    if origin is Literal:
        return value in typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(expected))
    if expected is type(None):
        return value is None
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, float)
    return isinstance(value, expected)


def _type_name(expected: Any) -> str:
    args = typing.get_args(expected)
    return " | ".join(_type_name(a) for a in args) if args else getattr(expected, "__name__", str(expected))
