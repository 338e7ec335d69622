"""Keras networks of DoppelGANger: the generator, the two critics, and how they run (:mod:`~dg_tf.models.lstm`)."""

from dg_tf.models.critic import AttributeCritic, Critic, pack
from dg_tf.models.flags import generation_flags
from dg_tf.models.generator import Generator
from dg_tf.models.lstm import Kernels, choose_kernels

__all__ = ["Generator", "Critic", "AttributeCritic", "pack", "generation_flags", "Kernels", "choose_kernels"]
