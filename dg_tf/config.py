"""The single configuration of a DoppelGANger model and its training run.

Every hyperparameter lives in :class:`DGConfig`; CLI flags, the saved
``config.json`` and TensorBoard's hparams text derive from it. Defaults are the
paper's (Lin et al., IMC 2020, §4 and appendix B); see ``../shared/README.md``
"Defaults = the paper". No TensorFlow import here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal

from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.fileio import read_json
from dg_tf.limits import brief

__all__ = ["DGConfig", "RESUMABLE_FIELDS", "auto_sample_len", "padding_sample_len"]

logger = logging.getLogger(__name__)

LSTMInitialState = Literal["random", "zero", "learned"]
_INITIAL_STATES = typing.get_args(LSTMInitialState)
JitCompile = Literal["auto", "on", "off"]
InputPipeline = Literal["in_graph", "tf_data"]
Strategy = Literal["default", "mirrored", "multi-worker"]
Precision = Literal["float32", "mixed_bfloat16", "mixed_float16"]

#: Target number of LSTM passes T = L / S for the automatic sample_len (paper §4.4:
#: "setting S so that T/S ... is around 50 gives good results").
TARGET_ROLLOUTS = 50
#: Every integer field must be below this: TensorFlow takes sizes and counts as int32.
MAX_INT = 2**31
#: Fields a resumed run may change (``DGConfig.resumed_with``): they steer the optimization and
#: the run's bookkeeping, not the networks' shapes, the data encoding or the seeded streams.
RESUMABLE_FIELDS = frozenset({
    "aux_critic_weight", "gradient_penalty_weight", "aux_gradient_penalty_weight", "epochs", "batch_size",
    "critic_rounds", "generator_rounds", "generator_lr", "critic_lr", "aux_critic_lr", "adam_beta1",
    "adam_beta2", "adam_epsilon", "checkpoint_every", "checkpoints_to_keep", "figure_every",
    "generate_batch_size", "dp_delta", "jit_compile", "lstm_batch_splits", "steps_per_execution",
    "input_pipeline", "strategy",
})
#: ... except these with differential privacy: the accountant assumes them for the whole run.
DP_FIXED_FIELDS = frozenset({"batch_size", "critic_rounds"})


@dataclasses.dataclass(frozen=True)
class DGConfig:
    """Hyperparameters of DoppelGANger.

    Structure (paper appendix B):
        sample_len: S, records generated per LSTM pass (§4.1, batch generation).
            ``None`` picks the divisor of the series length L whose number of
            passes L/S is closest to 50, the paper's advice (§4.4).
        attribute_noise_dim: width of the noise of the attribute generator.
        addi_attribute_noise_dim: width of the noise of the min/max generator.
        feature_noise_dim: width of the noise fed to each LSTM pass.
        attribute_hidden_layers / attribute_hidden_units: hidden Dense+ReLU+BatchNorm
            blocks of both attribute MLPs.
        feature_lstm_layers / feature_lstm_units: the feature generator's LSTM.
        critic_hidden_layers / critic_hidden_units: hidden Dense+ReLU layers of the critic.
        aux_critic_hidden_layers / aux_critic_hidden_units: same for the auxiliary critic.
        lstm_initial_state: "random" (N(0,1) per call, as the original), "zero" or
            "learned" (a trained vector, init N(0, 0.02)).
        batch_norm_momentum / batch_norm_epsilon: of the attribute MLPs' BatchNorm
            (TF1 decay 0.9, eps 1e-5; Keras' defaults differ).
        length_floor: no generated series is shorter than the shortest
            training series (its stop flags before that step are ignored).
            Lengths are learned from the data either way; when every training
            series has the same length there are no flags and every generated
            series has that length.

    Transformation:
        self_norm: auto-normalization (§4.2): per-sample min/max become two
            generated "additional attributes" per continuous feature column.
        self_norm_eps: widening of each per-sample min/max (original: 1e-4).
        self_norm_within_range: generate each half range as a fraction of the
            room its midpoint leaves inside the feature's declared range, so
            every generated value lies in that range (the original's pairs
            can overshoot it, and decoding then clips).

    Loss (§4.3, appendix B):
        use_aux_critic: train the auxiliary attribute critic.
        aux_critic_weight: alpha, weight of the auxiliary critic in the generator loss.
        gradient_penalty_weight / aux_gradient_penalty_weight: WGAN-GP lambda of
            the critic and the auxiliary critic.
        num_packing: PacGAN packing degree (1 = off).

    Training:
        epochs: passes over the data; each has N // batch_size steps.
        batch_size: samples per step, drawn with replacement (as the original);
            with DP, the expected size of each Poisson sample.
        critic_rounds / generator_rounds: critic and generator updates per step.
        generator_lr / critic_lr / aux_critic_lr, adam_beta1, adam_beta2,
            adam_epsilon: Adam per network (TF1's epsilon 1e-8).
        seed: seeds every random draw (weights, noise, batches, penalty mixing).
        checkpoint_every: epochs between checkpoints (the last epoch always is one).
        checkpoints_to_keep: checkpoints kept on disk.
        figure_every: epochs between TensorBoard figures of generated series
            (0 = never).
        generate_batch_size: samples generated per forward pass.

    Privacy (§6.2, see :mod:`dg_tf.dp_sgd` and :mod:`dg_tf.privacy_accounting`):
        dp_noise_multiplier: sigma of DP-SGD on both critics; ``None`` trains
            without differential privacy. With it, each critic update uses a
            Poisson sample (each example independently with probability
            ``batch_size / N``), per-example gradients clipped to ``dp_l2_clip``
            and Gaussian noise of standard deviation ``sigma * dp_l2_clip``.
            Requires ``num_packing == 1``.
        dp_l2_clip: C, the per-example L2 clipping norm of each critic's gradient.
        dp_delta: the delta at which the spent epsilon is reported.

    Performance and scale (change speed and memory, not the model; see
    :mod:`dg_tf.training`):
        jit_compile: compile the training step with XLA. "auto" picks it on
            GPUs only: on CPUs XLA's sigmoid/tanh are several times slower than
            TensorFlow's own kernels and the step is slower (measured);
            without XLA the LSTM runs as TensorFlow's fused ``BlockLSTM``.
            Not with DP (its Poisson batches have data-dependent shapes).
        lstm_batch_splits: the (non-XLA) LSTM runs as this many independent
            kernels over parts of the batch, which TensorFlow runs
            concurrently (same result up to float rounding; with
            :func:`dg_tf.runtime.configure_cpu_threads` the fastest on CPUs,
            measured in ``benchmarks/``); 1 = one kernel. Generation runs
            this many groups of rows, each a whole forward pass
            (:meth:`~dg_tf.models.Generator.generate`).
        steps_per_execution: training steps run by one compiled call (a
            ``tf.while_loop``, metrics summed on the device); ``None`` = a whole
            epoch per call. Progress callbacks fire after each call.
        input_pipeline: "in_graph" draws each batch's row indices inside the
            step from the checkpointed generator and gathers from the data held
            on the device; "tf_data" feeds gathered batches through a prefetching
            ``tf.data`` pipeline whose indices are a function of (seed, step),
            for data better kept on the host. Both are with replacement and
            resume bit-identically; they draw different batches. Not with DP.
        strategy: "default" (one device), "mirrored" (all local GPUs, or all
            logical CPU devices without GPUs) or "multi-worker" (workers from
            ``TF_CONFIG``): each step's global batch is split evenly across the
            replicas (``batch_size`` must divide by their number), gradients
            are summed, BatchNorm statistics are synchronized. Not with DP.
        precision: "float32", or Keras mixed precision "mixed_bfloat16" /
            "mixed_float16" (float32 variables, low-precision compute, the
            latter with dynamic loss scaling). Not with DP.
    """

    # structure
    sample_len: int | None = None
    attribute_noise_dim: int = 5
    addi_attribute_noise_dim: int = 5
    feature_noise_dim: int = 5
    attribute_hidden_layers: int = 2
    attribute_hidden_units: int = 100
    feature_lstm_layers: int = 1
    feature_lstm_units: int = 100
    critic_hidden_layers: int = 4
    critic_hidden_units: int = 200
    aux_critic_hidden_layers: int = 4
    aux_critic_hidden_units: int = 200
    lstm_initial_state: LSTMInitialState = "random"
    batch_norm_momentum: float = 0.9
    batch_norm_epsilon: float = 1e-5
    length_floor: bool = True
    length_floor_in_training: bool = True
    # transformation
    self_norm: bool = True
    self_norm_eps: float = 1e-4
    self_norm_within_range: bool = False
    # loss
    use_aux_critic: bool = True
    aux_critic_weight: float = 1.0
    gradient_penalty_weight: float = 10.0
    aux_gradient_penalty_weight: float = 10.0
    num_packing: int = 1
    # training
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
    seed: int = 0
    checkpoint_every: int = 50
    checkpoints_to_keep: int = 5
    figure_every: int = 50
    generate_batch_size: int = 1000
    # privacy
    dp_noise_multiplier: float | None = None
    dp_l2_clip: float = 1.0
    dp_delta: float = 1e-5
    # performance and scale
    jit_compile: JitCompile = "auto"
    lstm_batch_splits: int = 4
    steps_per_execution: int | None = None
    input_pipeline: InputPipeline = "in_graph"
    strategy: Strategy = "default"
    precision: Precision = "float32"

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
        positive = [
            "attribute_noise_dim", "addi_attribute_noise_dim", "feature_noise_dim",
            "attribute_hidden_units", "feature_lstm_layers", "feature_lstm_units",
            "critic_hidden_units", "aux_critic_hidden_units", "num_packing", "epochs",
            "batch_size", "critic_rounds", "generator_rounds", "checkpoint_every",
            "checkpoints_to_keep", "generate_batch_size", "generator_lr", "critic_lr",
            "aux_critic_lr", "self_norm_eps", "batch_norm_epsilon", "adam_epsilon", "dp_l2_clip",
        ]
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be > 0")
        non_negative = [
            "attribute_hidden_layers", "critic_hidden_layers", "aux_critic_hidden_layers",
            "aux_critic_weight", "gradient_penalty_weight", "aux_gradient_penalty_weight",
            "figure_every", "seed",
        ]
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be >= 0")
        if self.sample_len is not None and self.sample_len < 1:
            raise ConfigError(f"sample_len={self.sample_len!r} must be >= 1 or None (automatic)")
        for name in ("adam_beta1", "adam_beta2", "batch_norm_momentum"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must lie in [0, 1)")
        if self.lstm_batch_splits < 1:
            raise ConfigError(f"lstm_batch_splits={self.lstm_batch_splits!r} must be >= 1")
        if self.steps_per_execution is not None and self.steps_per_execution < 1:
            raise ConfigError(f"steps_per_execution={self.steps_per_execution!r} must be >= 1 or None (an epoch)")
        if self.dp_noise_multiplier is not None:
            if self.dp_noise_multiplier < 0:
                raise ConfigError(f"dp_noise_multiplier={self.dp_noise_multiplier!r} must be >= 0 or None (no DP)")
            if self.num_packing != 1:
                raise ConfigError(
                    f"num_packing={self.num_packing} must be 1 with dp_noise_multiplier set "
                    "(DP-SGD clips one example at a time)"
                )
            plain = {"jit_compile": ("auto", "off"), "input_pipeline": ("in_graph",),
                     "strategy": ("default",), "precision": ("float32",)}
            for name, allowed in plain.items():
                if getattr(self, name) not in allowed:
                    raise ConfigError(
                        f"{name}={getattr(self, name)!r} is not supported with dp_noise_multiplier set "
                        f"(use {' or '.join(map(repr, allowed))})"
                    )
        if not 0.0 < self.dp_delta < 1.0:
            raise ConfigError(f"dp_delta={self.dp_delta!r} must lie in (0, 1)")
        if self.lstm_initial_state not in _INITIAL_STATES:
            raise ConfigError(
                f"lstm_initial_state={self.lstm_initial_state!r} must be one of {list(_INITIAL_STATES)}"
            )

    def resolved_sample_len(self, max_length: int) -> int:
        """The sample_len S to use for series of padded length ``max_length``."""
        return self.sample_len if self.sample_len is not None else auto_sample_len(max_length)

    def replace(self, **changes: Any) -> "DGConfig":
        """A copy with ``changes`` applied (validated like a new config)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(f"unknown config field(s): {brief(', '.join(map(str, unknown)), 200)}")
        return dataclasses.replace(self, **changes)

    def resumed_with(self, changes: dict[str, Any]) -> "DGConfig":
        """This (a run's saved) config with the ``changes`` of a resumed run, each logged.

        Only :data:`RESUMABLE_FIELDS` may change (with DP, not
        :data:`DP_FIXED_FIELDS`): learning rates, epochs, batch size, loss
        weights, checkpointing and performance settings.

        Raises:
            ConfigError: a change to any other field, naming each with its
                saved and requested values.
        """
        new = self.replace(**changes)
        changed = [f.name for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(new, f.name)]
        fixed = {n for n in changed if n not in RESUMABLE_FIELDS}
        if self.dp_noise_multiplier is not None:
            fixed |= DP_FIXED_FIELDS.intersection(changed)
        if fixed:
            shown = ", ".join(f"{n} ({getattr(self, n)!r} -> {getattr(new, n)!r})" for n in sorted(fixed))
            raise ConfigError(
                f"--resume cannot change {shown}: the run's networks, data encoding, random streams or privacy "
                "accounting depend on them; start a new run (another --out) instead"
            )
        for name in changed:
            logger.info("resume: %s changed from %r to %r", name, getattr(self, name), getattr(new, name))
        return new

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DGConfig":
        """Build a config from a dict; unknown keys are an error naming them."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        return cls().replace(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "DGConfig":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_file(cls, path: str | Path) -> "DGConfig":
        """Read a JSON config file (bounded, see :func:`dg_tf.fileio.read_json`); errors name the file.

        Raises:
            ConfigError: the file is missing, not a regular file, not JSON, or
                holds an invalid config; the message starts with the path.
        """
        try:
            return cls.from_dict(read_json(path))
        except DataFormatError as err:
            raise ConfigError(str(err)) from None
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None


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
