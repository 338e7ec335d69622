"""A trained model as a plain TensorFlow SavedModel (``python -m dg_tf.export``).

:func:`export_saved_model` writes a SavedModel that a TensorFlow process loads
with ``tf.saved_model.load`` without dg_tf installed. Its functions (also
saved as serving signatures of the same names):

- ``generate(n, seed)``: ``n`` int64 [] series, ``seed`` int64 [];
- ``generate_conditional(attributes, seed)``: float32 [n, A] given real
  attributes in the dataset's attribute layout (discrete one-hot, continuous
  in range; not validated), one row per series; only for models with
  attributes.

Each returns a dict of ``data_feature`` float32 [n, L, K] (zero after each
series' end), ``data_attribute`` float32 [n, A] (discrete one-hot) and
``data_gen_flag`` float32 [n, L]: the arrays of
:meth:`DoppelGANger.generate(n, seed=seed) <dg_tf.model.DoppelGANger.generate>`
(with ``attributes=`` for the conditional one), bitwise on the same kind of
device. That holds because the graph repeats ``generate`` step by step:

- noise: both draw each batch's noise with :class:`~dg_tf.models.noise.CounterNoise`
  from the seed (stateless ops at the counters of a Philox generator reset
  from it), so concurrent calls of the exported function never share state;
- batches of the config's ``generate_batch_size`` (a given attribute batch
  zero-padded), each the model's compiled batch (same XLA setting, kernels
  and early exit), the output truncated to ``n``;
- decoding, inside each batch: :func:`~dg_tf.graph_decoding.decode_graph`, the TensorFlow twin of
  :meth:`Encoding.decode <dg_tf.encoding.Encoding.decode>` (which owns the
  rules; a change there must be made here too, and
  ``tests/test_export.py`` checks that the two agree).

The folder also holds ``assets.extra/layout.json`` (:data:`LAYOUT_FILE`): the
signatures, the output arrays' shapes and the column layout (output specs,
their column ranges, lengths, and the table schema when the model was fit on
a table) for whoever serves the model.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import tensorflow as tf

from dg_tf.data.specs import Output, total_dim
from dg_tf.errors import DGError
from dg_tf.fileio import atomic_folder
from dg_tf.graph_decoding import column_layout
from dg_tf.model import DoppelGANger, sample_batch
from dg_tf.models import choose_kernels
from dg_tf.models.noise import CounterNoise

__all__ = [
    "GenerationModule", "LAYOUT_FILE", "check_export_folder", "export_saved_model",
]

logger = logging.getLogger(__name__)

#: The layout description inside the SavedModel folder (TF Serving's place for extra files).
LAYOUT_FILE = Path("assets.extra") / "layout.json"
#: Version of :data:`LAYOUT_FILE`'s content.
LAYOUT_VERSION = 1
#: The names of the arrays each function returns, in :func:`~dg_tf.model.sample_batch`'s order.
OUTPUT_ARRAYS = ("data_feature", "data_attribute", "data_gen_flag")


class GenerationModule(tf.Module):
    """The ``tf.Module`` that :func:`export_saved_model` saves: ``model.generate`` as graph functions.

    Args:
        model: a trained (or loaded) :class:`DoppelGANger`; its generator's
            variables are tracked, its config's ``generate_batch_size``,
            ``generate_early_exit`` and kernels (XLA or not, LSTM kernels of
            this machine) are fixed into the functions.

    Attributes:
        generate: ``tf.function`` (n: int64 [], seed: int64 []) -> the dict of
            :func:`~dg_tf.graph_decoding.decode_graph`.
        generate_conditional: ``tf.function`` (attributes: float32 [n, A],
            seed: int64 []) -> the same dict; absent without attributes.
    """

    def __init__(self, model: DoppelGANger):
        super().__init__(name="doppelganger")
        self._encoding = model._require_built()
        self.generator = model.generator
        self._batch = model.config.generate_batch_size
        self._early_exit = model.config.generate_early_exit
        self._max_length = self._encoding.max_length
        self._width = self._encoding.num_real_attributes
        self._batch_fn = tf.function(self._sample_batch, jit_compile=choose_kernels(model.config).xla,
                                     autograph=False)
        self.generate = tf.function(
            self._generate, autograph=False,
            input_signature=[tf.TensorSpec([], tf.int64, name="n"), tf.TensorSpec([], tf.int64, name="seed")])
        if self._width:
            self.generate_conditional = tf.function(
                self._generate_conditional, autograph=False,
                input_signature=[tf.TensorSpec([None, self._width], tf.float32, name="attributes"),
                                 tf.TensorSpec([], tf.int64, name="seed")])

    def _sample_batch(self, counter: tf.Tensor, key: tf.Tensor, given: tf.Tensor | None):
        """:func:`~dg_tf.model.sample_batch` (compiled as ``generate`` compiles it)."""
        return sample_batch(self.generator, self._encoding, counter, key, self._batch, given, self._early_exit)

    def _run(self, n: tf.Tensor, seed: tf.Tensor, given: tf.Tensor | None) -> dict[str, tf.Tensor]:
        """Decoded batches until ``n`` series exist (``given``: float32 [batches * B, A] or None), truncated."""
        batch = self._batch
        batches = tf.cast((n + batch - 1) // batch, tf.int32)
        rng = CounterNoise.from_seed(seed)
        features = total_dim(list(self._encoding.feature_outputs))
        shapes = [[batch, self._max_length, features], [batch, self._width], [batch, self._max_length]]
        arrays = [tf.TensorArray(tf.float32, size=batches, element_shape=shape) for shape in shapes]

        def body(i, counter, *arrays):
            rows = None if given is None else tf.reshape(given[i * batch:(i + 1) * batch], [batch, self._width])
            *out, counter = self._batch_fn(counter, rng.key, rows)
            return (i + 1, counter, *(array.write(i, part) for array, part in zip(arrays, out)))

        _, _, *arrays = tf.while_loop(lambda i, *_: i < batches, body,
                                      (tf.constant(0, batches.dtype), rng.counter, *arrays))
        return {name: array.concat()[:n] for name, array in zip(OUTPUT_ARRAYS, arrays)}

    def _generate(self, n: tf.Tensor, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        """``n`` int64 [] >= 1 series from ``seed`` int64 []."""
        with tf.control_dependencies([tf.debugging.assert_positive(n, message="n must be a positive integer")]):
            n = tf.identity(n)
        return self._run(n, seed, None)

    def _generate_conditional(self, attributes: tf.Tensor, seed: tf.Tensor) -> dict[str, tf.Tensor]:
        """One series per row of ``attributes`` float32 [n >= 1, A], from ``seed`` int64 []."""
        n = tf.shape(attributes, out_type=tf.int64)[0]
        with tf.control_dependencies([tf.debugging.assert_positive(n, message="attributes must have rows")]):
            n = tf.identity(n)
        batches = (n + self._batch - 1) // self._batch
        padded = tf.pad(attributes, [[0, batches * self._batch - n], [0, 0]])  # zeros, as generate() pads
        return self._run(n, seed, padded)


def _layout(model: DoppelGANger, conditional: bool) -> dict[str, Any]:
    """The content of :data:`LAYOUT_FILE`."""
    encoding = model._require_built()
    length, width = encoding.max_length, encoding.num_real_attributes
    features = total_dim(list(encoding.feature_outputs))

    def outputs(specs) -> list[dict[str, Any]]:
        return [{**output.to_dict(), "columns": [start, stop]} for output, start, stop in column_layout(list(specs))]

    signatures = {"generate": {"n": "int64 [] (number of series, >= 1)", "seed": "int64 []"}}
    if conditional:
        signatures["generate_conditional"] = {
            "attributes": f"float32 [n, {width}] (one row per series, the data_attribute layout)",
            "seed": "int64 []",
        }
    return {
        "format": "dg_tf SavedModel",
        "version": LAYOUT_VERSION,
        "signatures": signatures,
        "outputs": {
            "data_feature": {"dtype": "float32", "shape": ["n", length, features],
                             "note": "the input's scale; zero after each series' end"},
            "data_attribute": {"dtype": "float32", "shape": ["n", width], "note": "discrete outputs one-hot"},
            "data_gen_flag": {"dtype": "float32", "shape": ["n", length],
                              "note": "1 through each series' last step, then 0"},
        },
        "feature_outputs": outputs(encoding.feature_outputs),
        "attribute_outputs": outputs(encoding.attribute_outputs),
        "max_length": length,
        "fixed_length": encoding.lengths.fixed,
        "min_length": encoding.lengths.minimum,
        "generate_batch_size": model.config.generate_batch_size,
        "table_schema": None if model.table_schema is None else model.table_schema.to_dict(),
    }


def check_export_folder(out: Path) -> None:
    """Refuse an export folder that exists and is not empty (or is not a folder): :class:`DGError`."""
    if out.is_dir() and any(out.iterdir()):
        raise DGError(f"{out} exists and is not empty; an export writes a new folder (choose another or "
                      "remove this one)")
    if out.exists() and not out.is_dir():
        raise DGError(f"{out} exists and is not a folder")


def export_saved_model(model: DoppelGANger, out: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a plain TensorFlow SavedModel folder (see the module docstring).

    The SavedModel is written into a hidden sibling of ``out`` and renamed to
    ``out`` when complete, so ``out`` never holds a partial export.

    Args:
        model: a trained or loaded model.
        out: the folder to create (absent or empty).

    Returns:
        The folder written.

    Raises:
        DGError: the model is not trained, or ``out`` exists and is not an empty folder (nothing is written).
    """
    out = Path(out)
    check_export_folder(out)
    module = GenerationModule(model)
    signatures = {"generate": module.generate}
    if hasattr(module, "generate_conditional"):
        signatures["generate_conditional"] = module.generate_conditional
    layout = _layout(model, "generate_conditional" in signatures)
    with atomic_folder(out) as staging:
        tf.saved_model.save(module, str(staging), signatures=signatures)
        (staging / LAYOUT_FILE).parent.mkdir()
        (staging / LAYOUT_FILE).write_text(json.dumps(layout, indent=1) + "\n")
        check_export_folder(out)  # nothing appeared meanwhile
        if out.is_dir():
            out.rmdir()  # empty: the staging folder takes its place in one rename
    logger.info("exported the generator as a SavedModel to %s (signatures %s; layout in %s)",
                out, ", ".join(signatures), out / LAYOUT_FILE)
    return out

