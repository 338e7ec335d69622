"""Keras networks of DoppelGANger: the generator and the two critics."""

from dg_tf.models.critic import AttributeCritic, Critic
from dg_tf.models.generator import Generator, generation_flags

__all__ = ["Generator", "Critic", "AttributeCritic", "generation_flags"]
