"""Building DoppelGANger's networks for an encoding, after checking they can be built and run here.

:func:`build_networks` creates the generator and the critics with their
variables (built from the known widths, no forward pass), each network given only the model
settings and the :class:`~dg_tf.models.lstm.Kernels` of this machine.
:func:`check_buildable` first refuses, before TensorFlow sees them, sizes
that would give a zero-width layer (which aborts the process inside oneDNN)
or exceed the available memory.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.data.specs import total_dim
from dg_tf.encoding import Encoding
from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.limits import available_memory, format_bytes
from dg_tf.models.critic import AttributeCritic, Critic
from dg_tf.models.generator import Generator
from dg_tf.models.lstm import choose_kernels
from dg_tf.seeding import derive_seed

__all__ = ["build_networks", "check_buildable", "dtype_policy"]

#: Bytes per number of the networks while training: float32 value, two Adam slots (activations:
#: real, fake, interpolated), gradient.
_TRAINING_BYTES_PER_NUMBER = 16


def dtype_policy(config: DGConfig) -> keras.DTypePolicy | None:
    """The Keras dtype policy of every network (``precision``); ``None``: float32 throughout."""
    precision = config.model.precision
    return None if precision == "float32" else keras.DTypePolicy(precision)


def build_networks(
    config: DGConfig, encoding: Encoding, source: str = "<model>"
) -> tuple[Generator, Critic, AttributeCritic | None]:
    """The generator, the critic and (with ``use_aux_critic``) the auxiliary critic, built.

    Create them under the scope of the strategy that will train them.

    Raises:
        DataFormatError: ``encoding`` has no feature column, or no attribute
            at all (neither real nor min/max ones).
        ConfigError: the networks would not fit in the available memory.
    """
    check_buildable(config, encoding, source)
    model = config.model
    policy = dtype_policy(config)
    generator = Generator(
        model, encoding.model_feature_outputs, list(encoding.attribute_outputs), encoding.addi_outputs,
        encoding.max_length, encoding.sample_len, encoding.lengths, kernels=choose_kernels(config),
        synchronized_batch_norm=config.strategy != "default", dtype=policy, name="generator",
    )
    critic = Critic(model.critic_hidden_layers, model.critic_hidden_units, derive_seed(model.seed, "critic"),
                    dtype=policy, name="critic")
    aux_critic = (
        AttributeCritic(model.aux_critic_hidden_layers, model.aux_critic_hidden_units,
                        derive_seed(model.seed, "aux_critic"), dtype=policy, name="aux_critic")
        if model.use_aux_critic else None
    )
    generator.build_weights()
    critic_width, aux_critic_width = _critic_input_widths(config, encoding)
    critic.build_for_width(critic_width)
    if aux_critic is not None:
        aux_critic.build_for_width(aux_critic_width)
    return generator, critic, aux_critic


def _critic_input_widths(config: DGConfig, encoding: Encoding) -> tuple[int, int]:
    """Input columns of the critic (``num_packing`` packed series and their attributes, real and min/max,
    with ``critic_probabilities_and_one_hot`` the one-hot view of the real ones beside them:
    ``training.step.critic_attribute_view``) and of the auxiliary critic (the packed attributes alone,
    likewise widened with ``aux_critic_input == "both"``: ``training.step.aux_critic_view``)."""
    attributes = config.num_packing * (encoding.num_real_attributes + total_dim(encoding.addi_outputs))
    series = config.num_packing * encoding.max_length * total_dim(encoding.model_feature_outputs)
    one_hot = config.num_packing * encoding.num_real_attributes
    critic_one_hot = one_hot if config.critic_probabilities_and_one_hot else 0
    aux_one_hot = one_hot if config.training.aux_critic_input == "both" else 0
    return series + attributes + critic_one_hot, attributes + aux_one_hot


def _memory_floats(config: DGConfig, encoding: Encoding) -> int:
    """About how many numbers the networks' variables and one batch's activations hold (Python ints).

    Variables: dense kernels of the attribute MLPs, the LSTM and its heads,
    and the critics, whose input is the packed series ``num_packing x L x D``.
    Activations: per sample of the larger of the training batch (times
    ``num_packing``) and the generation batch, its series, attributes and
    the LSTM's gates at each of the L/S passes. An estimate for
    :func:`check_buildable`, not a count.
    """
    c = config
    features = total_dim(encoding.model_feature_outputs)
    attributes = encoding.num_real_attributes + total_dim(encoding.addi_outputs)

    def mlp(inputs: int, layers: int, units: int, outputs: int) -> int:
        return inputs * units + max(layers - 1, 0) * units * units + units * outputs if layers else inputs * outputs

    units = c.feature_lstm_units
    lstm_inputs = c.feature_noise_dim + attributes + units
    generator = (2 * mlp(c.addi_attribute_noise_dim + attributes, c.attribute_hidden_layers,
                         c.attribute_hidden_units, attributes)
                 + c.feature_lstm_layers * (lstm_inputs + units) * 4 * units
                 + units * encoding.sample_len * features)
    critic_width, aux_critic_width = _critic_input_widths(config, encoding)
    critic = mlp(critic_width, c.critic_hidden_layers, c.critic_hidden_units, 1)
    if c.use_aux_critic:
        critic += mlp(aux_critic_width, c.aux_critic_hidden_layers, c.aux_critic_hidden_units, 1)
    per_sample = (encoding.max_length * features + attributes
                  + encoding.max_length // encoding.sample_len * c.feature_lstm_layers * 8 * units)
    batch = max(c.batch_size * c.num_packing, c.generate_batch_size)
    return generator + critic + batch * per_sample


def check_buildable(config: DGConfig, encoding: Encoding, source: str) -> None:
    """Refuse, before TensorFlow sees them, sizes the networks cannot be built or run for.

    No feature column, or no attribute at all (no real attribute and no
    continuous feature whose min/max would become one), would give a
    zero-width layer, which aborts the process inside oneDNN; and networks
    or batches larger than the available memory would exhaust it.
    """
    if not encoding.feature_outputs:
        raise DataFormatError(source, "feature_outputs", None,
                              "no feature columns: DoppelGANger generates time series and needs at least one")
    if encoding.num_real_attributes + total_dim(encoding.addi_outputs) == 0:
        raise DataFormatError(
            source, "attribute_outputs", None,
            "no attributes and no continuous feature (whose per-sample min/max would be attributes): the "
            "attribute generator would have nothing to generate; add an attribute column (a constant one will do)",
        )
    needed = _TRAINING_BYTES_PER_NUMBER * _memory_floats(config, encoding)
    available = available_memory()
    if needed > available:
        c = config
        raise ConfigError(
            f"{source}: the networks for max_length={encoding.max_length}, sample_len={encoding.sample_len}, "
            f"{total_dim(encoding.model_feature_outputs)} feature and "
            f"{encoding.num_real_attributes + total_dim(encoding.addi_outputs)} attribute columns, with "
            f"batch_size={c.batch_size} and generate_batch_size={c.generate_batch_size}, would need about "
            f"{format_bytes(needed)} for weights, optimizer state, gradients and activations; "
            f"{format_bytes(available)} is available"
        )
