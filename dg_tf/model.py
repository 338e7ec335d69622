"""``DoppelGANger``: the public model (fit, generate, save, load; fit_dataframe, generate_dataframe).

Works in the dataset's own space: ``fit`` takes a :class:`~dg_tf.data.Dataset`
and ``generate`` returns one, features in the input's scale, discrete
attributes one-hot. Encoding (auto-normalization, generation flags) and
decoding happen inside (see :mod:`dg_tf.encoding`). A model fit on a table
keeps its :class:`~dg_tf.tabular.TableSchema` (:attr:`DoppelGANger.table_schema`),
so ``model.generate_dataframe(n)`` gives a table back, also after ``save`` and
``load``; ``DoppelGANger.fit_dataframe(df, ...)`` fits one in one call.

A model folder (``save``/``load``, and every training run folder) is owned by
:class:`~dg_tf.run.RunFolder`. Training is :class:`~dg_tf.training.Trainer`;
:meth:`DoppelGANger.retrain_attributes` changes the attribute distribution of
a trained model without touching how series are generated for given
attributes (paper §6.1).

This module is longer than 400 lines because it is the public surface: the
docstrings of ``fit``, ``generate``, ``critic_scores`` and ``retrain_attributes``
are the API reference; the work is in the modules they call.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
from pathlib import Path
from collections.abc import Hashable
from typing import Any, Callable, Mapping, Sequence

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from dg_tf.conditioning import complete_attributes
from dg_tf.config import DGConfig, RuntimeConfig
from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Output, total_dim
from dg_tf.data.validation import validate_attributes, validate_dataset
from dg_tf.encoding import Encoding
from dg_tf.errors import ConfigError, DataFormatError, DGError
from dg_tf.graph_decoding import decode_graph
from dg_tf.limits import available_memory, brief, format_bytes
from dg_tf.models import AttributeCritic, Critic, Generator, choose_kernels, pack
from dg_tf.models.build import build_networks, dtype_policy
from dg_tf.models.noise import CounterNoise
from dg_tf.plotting import figure_to_image, plot_series
from dg_tf.privacy_accounting import PrivacyReport
from dg_tf.run import RunFolder
from dg_tf.seeding import derive_seed
from dg_tf.tabular.conditions import describe_conditions, encode_conditions
from dg_tf.tabular.frames import from_dataframe, to_dataframe
from dg_tf.tabular.schema import TableSchema
from dg_tf.training import AttributeTrainer, Trainer
from dg_tf.training.distribute import is_chief, strategy_scope
from dg_tf.training.step import aux_critic_view, critic_attribute_view

__all__ = ["DoppelGANger", "sample_batch"]

logger = logging.getLogger(__name__)

#: Seed of the series drawn for the training figures (the same ones every time).
FIGURE_SEED = 12345


def sample_batch(generator: Generator, encoding: Encoding, counter: tf.Tensor, key: tf.Tensor, batch_size: int,
                 attributes: tf.Tensor | None, early_exit: bool, attribute_probabilities: bool = False):
    """One decoded generation batch: noise drawn at a Philox counter, the inference forward pass, decoding.

    The one definition of a batch of :meth:`DoppelGANger.generate` and of the
    exported model's (:mod:`dg_tf.serving`). The noise is what a Philox
    ``tf.random.Generator`` at ``(counter, key)`` would draw
    (:class:`~dg_tf.models.noise.CounterNoise`), drawn by stateless ops that
    run concurrently with each other and with the networks; the output is
    decoded in the same graph (:func:`~dg_tf.graph_decoding.decode_graph`).

    Args:
        generator: the trained generator.
        encoding: its encoding.
        counter: uint64 [2] the Philox counter before the batch (low word first).
        key: uint64 [1] the Philox key.
        batch_size: B.
        attributes: float32 [B, A_real] given real attributes, or ``None``.
        early_exit: :meth:`Generator.generate`'s (a Python bool, so each value is its own trace).
        attribute_probabilities: discrete attributes as probabilities, not one-hot.

    Returns:
        Features [B, L, K] in the input's scale (zero after each series'
        end), real attributes [B, A_real] and gen_flags [B, L] (all float32),
        and the counter after the batch's noise (uint64 [2]).
    """
    rng = CounterNoise(key, counter)
    noise = generator.sample_noise(rng, batch_size)
    out = generator.generate(noise, attributes, early_exit=early_exit)
    decoded = decode_graph(encoding, out["features"], out["attributes"], out["gen_flags"],
                           attribute_probabilities=attribute_probabilities)
    return decoded["data_feature"], decoded["data_attribute"], decoded["data_gen_flag"], rng.counter


def sample_batches(generator: Generator, encoding: Encoding, counter: tf.Tensor, key: tf.Tensor, batch_size: int,
                   count: int, attributes: tf.Tensor | None, early_exit: bool, attribute_probabilities: bool = False):
    """``count`` consecutive batches of :func:`sample_batch` in one graph (the counter passed along).

    Only the counter links them, and it is arithmetic on the noise sizes, so
    TensorFlow runs the batches concurrently; the numbers are those of
    ``count`` calls of :func:`sample_batch`.

    Args:
        attributes: float32 [count * B, A_real] given real attributes, or ``None``.
        Others: as :func:`sample_batch`.

    Returns:
        Per batch its (features, real attributes, gen_flags), then the counter after the last batch.
    """
    parts = [None] * count if attributes is None else tf.split(attributes, count)
    batches = []
    for given in parts:
        *decoded, counter = sample_batch(generator, encoding, counter, key, batch_size, given, early_exit,
                                         attribute_probabilities)
        batches.append(decoded)
    return batches, counter


class DoppelGANger:
    """DoppelGANger for time series with metadata (Lin et al., IMC 2020).

    Args:
        config: hyperparameters; ``None`` uses the paper's defaults.
        feature_outputs: specs of the feature columns of the data to fit.
        attribute_outputs: specs of its attribute columns.

    Attributes:
        config: the :class:`DGConfig`.
        encoding: the :class:`Encoding` fitted on the training data (``None`` before ``fit``/``load``).
        generator, critic, aux_critic: the networks (``aux_critic`` is ``None`` without ``use_aux_critic``).
        privacy: the DP guarantee of the weights (set by a DP ``fit`` or read by ``load``); ``None`` without DP.
        table_schema: the schema of the table the model was fit on (``fit(table_schema=...)``), or ``None``.
        history: the ``keras.callbacks.History`` of the last ``fit`` (per-epoch losses), or ``None``.
        stop_training: a callback may set it to end ``fit`` after the current compiled chunk (Keras' convention).
    """

    def __init__(
        self,
        config: DGConfig | None,
        feature_outputs: Sequence[Output],
        attribute_outputs: Sequence[Output],
    ):
        self.config = config if config is not None else DGConfig()
        self.feature_outputs = list(feature_outputs)
        self.attribute_outputs = list(attribute_outputs)
        self.encoding: Encoding | None = None
        self.generator: Generator | None = None
        self.critic: Critic | None = None
        self.aux_critic: AttributeCritic | None = None
        self.privacy: PrivacyReport | None = None
        self.table_schema: TableSchema | None = None
        self.history: keras.callbacks.History | None = None
        self.stop_training = False

    # ----------------------------------------------------------- networks
    def _build(self, encoding: Encoding, source: str = "<model>") -> None:
        """Create the networks for ``encoding`` (under ``strategy``'s scope) and the generation function."""
        with strategy_scope(self.config.strategy):
            self.generator, self.critic, self.aux_critic = build_networks(self.config, encoding, source)
        self.encoding = encoding
        self._sample = tf.function(self._sample_batches, jit_compile=choose_kernels(self.config).xla,
                                   autograph=False)
        #: Draws the attribute vectors that complete partially given attributes; reset from the seed too.
        self._conditioning_rng = tf.random.Generator.from_seed(0)
        self._draw_attributes = tf.function(self._attribute_batch, autograph=False)

    def _networks(self) -> dict[str, keras.Model]:
        parts = dict(generator=self.generator, critic=self.critic)
        if self.aux_critic is not None:
            parts["aux_critic"] = self.aux_critic
        return parts

    def _require_built(self) -> Encoding:
        if self.encoding is None:
            raise DGError("the model is not trained: call fit() or DoppelGANger.load() first")
        return self.encoding

    # ----------------------------------------------------------- training
    def fit(
        self,
        dataset: Dataset,
        *,
        run_dir: str | Path | None = None,
        logdir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        table_schema: TableSchema | None = None,
        source: str = "<dataset>",
    ) -> "DoppelGANger":
        """Train on ``dataset`` for ``config.epochs`` epochs.

        Args:
            dataset: training data matching the model's specs.
            run_dir: the run folder (:class:`~dg_tf.run.RunFolder`):
                ``config.json``/``model.json`` are written before the first
                epoch (after a resume's checkpoint is restored), checkpoints
                during training, the model (:meth:`save`) at the end; ``None``
                keeps nothing on disk. Under ``strategy="multi-worker"`` only
                the chief writes it (the folder must be shared for ``resume``).
            logdir: TensorBoard folder; default the run folder's ``logs/``.
            resume: continue from the newest finite checkpoint in ``run_dir``.
                The model and the privacy accounting's settings must be those
                of the run's ``config.json``; training and runtime settings
                may differ (each change is logged).
            callbacks: Keras callbacks (``keras.callbacks.Callback``): their
                ``model`` is this object, ``on_train_batch_end`` fires after
                each compiled chunk of steps and ``on_epoch_end`` after each
                epoch with its mean losses (0-based indices, as in Keras).
            table_schema: the schema of the table ``dataset`` was made from
                (:func:`~dg_tf.tabular.from_dataframe`); kept as
                :attr:`table_schema` and saved with the model.
            source: name of the data's origin, used in error messages.

        Returns:
            This model; :attr:`history` holds the per-epoch losses.

        Raises:
            DataFormatError: the data breaks the format or does not match the specs.
            ConfigError: ``resume`` with changed model settings.
            TrainingDivergedError: a weight or a loss became NaN/Inf.
        """
        if dataset.feature_outputs != self.feature_outputs or dataset.attribute_outputs != self.attribute_outputs:
            raise DataFormatError(source, "outputs", None,
                                  "the dataset's feature/attribute specs differ from the model's")
        validate_dataset(dataset, source)
        run = RunFolder(run_dir) if run_dir is not None else None
        if resume:
            if run is None:
                raise DGError("resume=True needs the run_dir whose checkpoints to resume")
            if run.config_file.is_file():  # refuse a change to the model before anything is built or written
                saved = run.read_config()
                saved.resumed_with({name: getattr(self.config, name) for name in DGConfig.field_names()
                                    if getattr(self.config, name) != getattr(saved, name)})
        encoding = Encoding.for_dataset(dataset, self.config, source)
        if self.encoding is None or self.encoding != encoding:
            self._build(encoding, source)
        if table_schema is not None:
            self.table_schema = table_schema
        features, attributes = encoding.encode(dataset)
        writes = run is not None and self.writes_run_files
        with contextlib.ExitStack() as scratch:
            checkpoint_dir = None
            if run is not None and not writes:  # every multi-worker task saves checkpoints; the others' to scratch
                checkpoint_dir = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="dg_tf-worker-")))
                logdir = None
            elif run is not None:
                checkpoint_dir = run.checkpoints
                logdir = logdir if logdir is not None else run.logs
            trainer = Trainer(self.config, self.generator, self.critic, self.aux_critic, features, attributes,
                              checkpoint_dir=checkpoint_dir, logdir=logdir, figure_fn=self._figure)
            if resume and trainer.restore(run.checkpoints) == 0:
                logger.warning("no checkpoint in %s; training from the start", run.checkpoints)
            if writes:  # after a restore that matched: the settings in force
                run.write_description(self.config, encoding)
            self._log_plan(dataset, encoding, trainer.steps_per_epoch)
            trainer.train(self.config.epochs, callbacks, model=self)
        self.privacy = trainer.privacy_report()
        if self.privacy is not None:
            logger.info(
                "differential privacy: epsilon %.4g at delta %g (sigma %g, C %g, q %.4g, %d critic steps)",
                self.privacy.epsilon, self.privacy.delta, self.privacy.noise_multiplier,
                self.privacy.l2_clip, self.privacy.sampling_probability, self.privacy.steps,
            )
        if writes:
            self.save(run.path)
        return self

    @classmethod
    def fit_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        id_column: Hashable,
        attribute_columns: Sequence[Hashable],
        feature_columns: Sequence[Hashable],
        time_column: Hashable | None = None,
        config: DGConfig | None = None,
        run_dir: str | Path | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        **table_options: Any,
    ) -> "DoppelGANger":
        """Make, and fit on a table, a model that keeps the table's schema: ``from_dataframe`` + ``fit`` in one call.

        Args:
            df: the table (long or wide, see :func:`~dg_tf.tabular.from_dataframe`).
            id_column, attribute_columns, feature_columns, time_column: its columns.
            config: hyperparameters; ``None`` uses the paper's defaults. The
                table is padded to a multiple of ``config.sample_len`` (or of
                the automatic one, about 50 LSTM passes).
            run_dir: the run folder (see :meth:`fit`).
            callbacks: Keras callbacks (see :meth:`fit`).
            **table_options: the other options of
                :func:`~dg_tf.tabular.from_dataframe` (``style``,
                ``discrete_columns``, ``missing``, ``long_series``, ...).

        Returns:
            The trained model; :attr:`table_schema` is the table's schema
            (saved with the model) and :attr:`history` the per-epoch losses.

        Raises:
            ConfigError, DataFormatError: as :func:`~dg_tf.tabular.from_dataframe` and :meth:`fit`.
        """
        config = config if config is not None else DGConfig()
        if "sample_len" in table_options:
            raise ConfigError("fit_dataframe takes sample_len from config (DGConfig(sample_len=...))")
        dataset, schema = from_dataframe(
            df, id_column=id_column, attribute_columns=attribute_columns, feature_columns=feature_columns,
            time_column=time_column, sample_len="auto" if config.sample_len is None else config.sample_len,
            **table_options,
        )
        model = cls(config, dataset.feature_outputs, dataset.attribute_outputs)
        return model.fit(dataset, run_dir=run_dir, callbacks=callbacks, table_schema=schema, source=schema.source)

    @property
    def writes_run_files(self) -> bool:
        """Whether this process writes run folders: always, except a non-chief task of a multi-worker run
        (:func:`~dg_tf.training.distribute.is_chief`)."""
        return self.config.strategy != "multi-worker" or is_chief()

    def _log_plan(self, dataset: Dataset, encoding: Encoding, steps_per_epoch: int) -> None:
        logger.info(
            "training on %d series of length %d (sample_len %d) for %d epochs of %d steps",
            dataset.num_samples, dataset.max_length, encoding.sample_len, self.config.epochs, steps_per_epoch,
        )
        if encoding.lengths.fixed is not None:
            logger.info("every training series has %d steps: generation flags would carry no information, so the "
                        "model has none and generates series of exactly %d steps",
                        encoding.lengths.fixed, encoding.lengths.fixed)
        elif encoding.lengths.minimum > 1:
            logger.info("series lengths %d..%d: generated series end at their first stop flag, never before step %d "
                        "(the shortest training series)", encoding.lengths.minimum,
                        int(dataset.lengths.max()), encoding.lengths.minimum)

    def retrain_attributes(
        self,
        attributes: np.ndarray,
        epochs: int,
        *,
        run_dir: str | Path | None = None,
        seed: int | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        source: str = "<attributes>",
    ) -> None:
        """Retrain only the attribute generator towards the distribution of ``attributes`` (paper §6.1).

        The feature and min/max generators are frozen and the critics of
        training are left as they are; a fresh attribute critic (on the real
        attribute columns only) is the adversary (see
        :class:`~dg_tf.training.AttributeTrainer`). Afterwards ``generate(n)``
        draws attributes from the new distribution, while ``generate(n,
        attributes=..., seed=...)`` gives exactly the series it gave before.
        A DP model keeps its :attr:`privacy` report: the retrained weights are
        post-processing of the DP ones as long as ``attributes`` do not come
        from the private training data.

        Args:
            attributes: float32 [N, A] target attributes in the dataset's
                attribute layout (discrete one-hot, continuous in range).
            epochs: passes over ``attributes``, each of N // batch_size steps.
            run_dir: if given, the retrained model is saved there (as :meth:`save`)
                and TensorBoard logs go to its ``logs/``.
            seed: seeds the fresh critic, batches and noise; default ``config.seed``.
            callbacks: Keras callbacks (see :meth:`fit`).
            source: name of the attributes' origin, used in error messages.

        Raises:
            DGError: the model is not trained, has no attributes, or ``epochs`` < 1.
            DataFormatError: ``attributes`` do not match the model's attribute specs.
        """
        self._require_built()
        if not self.attribute_outputs:
            raise DGError("the model has no attributes to retrain")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise DGError(f"epochs={epochs!r} must be a positive integer")
        attributes = np.asarray(attributes, dtype=np.float32)
        validate_attributes(attributes, self.attribute_outputs, source)
        if attributes.shape[0] == 0:
            raise DataFormatError(source, "data_attribute", None, "no rows: nothing to retrain towards")
        c = self.config
        seed = c.seed if seed is None else seed
        with strategy_scope(c.strategy):
            critic = AttributeCritic(
                c.aux_critic_hidden_layers, c.aux_critic_hidden_units, derive_seed(seed, "retrain_critic"),
                dtype=dtype_policy(c), name="retrain_critic",
            )
            critic(aux_critic_view(c, self.generator, tf.constant(attributes[:1])))  # built for its input width
        run = RunFolder(run_dir) if run_dir is not None else None
        trainer = AttributeTrainer(c, self.generator, critic, attributes, seed=seed,
                                   logdir=run.logs if run is not None else None)
        logger.info("retraining the attribute generator on %d attribute rows for %d epochs of %d steps",
                    attributes.shape[0], epochs, trainer.steps_per_epoch)
        trainer.train(epochs, callbacks, model=self)
        if run is not None:
            self.save(run.path)

    def _figure(self, epoch: int) -> np.ndarray:
        sample = self.generate(5, seed=FIGURE_SEED)
        return figure_to_image(plot_series(sample, title=f"generated series, epoch {epoch}"))

    # --------------------------------------------------------- generation
    def _sample_batches(self, counter: tf.Tensor, key: tf.Tensor, batch_size: int, count: int,
                        attributes: tf.Tensor | None, early_exit: bool, attribute_probabilities: bool):
        """Decoded generation batches (compiled): :func:`sample_batches`."""
        return sample_batches(self.generator, self.encoding, counter, key, batch_size, count, attributes, early_exit,
                              attribute_probabilities)

    def _attribute_batch(self, batch_size: int) -> tf.Tensor:
        """[B, A_real] attribute vectors drawn from the conditioning RNG (:meth:`Generator.sample_attributes`)."""
        noise = self._conditioning_rng.normal([batch_size, self.config.attribute_noise_dim])
        return self.generator.sample_attributes(noise)

    def generate(
        self,
        n: int,
        attributes: np.ndarray | None = None,
        seed: int | None = None,
        *,
        given_attributes: np.ndarray | None = None,
        attribute_probabilities: bool = False,
    ) -> Dataset:
        """Generate ``n`` series with their attributes.

        Runs in batches of ``config.generate_batch_size`` (the last one is
        generated whole and truncated, so ``generate(n)`` is a prefix of
        ``generate(m)`` for m > n with the same seed), which draw their noise,
        run the generator and decode, ``config.generate_batches_per_call`` of
        them per compiled call (:func:`sample_batches`); the LSTM stops
        once every series of a group of rows has ended
        (:meth:`Generator.generate`), unless ``config.generate_early_exit``
        is off (the output is the same either way).

        Args:
            n: number of series.
            attributes: float32 [n, A] given real attributes, row-aligned with
                the output (conditional generation, paper §4.3): only the min/max
                and feature generators run.
            seed: seeds all noise; ``None`` draws a fresh seed each call.
            given_attributes: bool [n, len(attribute_outputs)]: which outputs
                of each row of ``attributes`` are given (partial conditioning);
                the others (their values in ``attributes`` are ignored) are
                drawn from the model's distribution conditioned on the given
                ones (:func:`~dg_tf.conditioning.complete_attributes`,
                seeded by ``seed``). Default: all given.
            attribute_probabilities: return the generator's probabilities for
                discrete attributes instead of one-hot.

        Returns:
            A :class:`Dataset` in the input's scale; ``dataset.lengths`` are the
            generated lengths.

        Raises:
            DGError: ``n`` is not a positive integer, ``seed`` not a 64-bit
                signed integer, or the output would not
                fit in the available memory (:meth:`check_generation_memory`;
                nothing is generated); ``given_attributes`` name labels the
                model (almost) never generates.
            DataFormatError: ``attributes`` or ``given_attributes`` do not
                match the model's attribute specs or ``n``.
        """
        encoding = self._require_built()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DGError(f"n={brief(n)} must be a positive integer")
        self.check_generation_memory(int(n))
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not -2**63 <= seed < 2**63:
            raise DGError(f"seed={brief(seed)} must be an integer in [-2**63, 2**63) (a 64-bit signed integer)")
        if given_attributes is not None and attributes is None:
            raise DGError("given_attributes marks which columns of attributes are given: pass attributes too")
        if attributes is not None:
            attributes = np.asarray(attributes, dtype=np.float32)
            width = total_dim(self.attribute_outputs)
            if attributes.shape != (n, width):
                raise DataFormatError("<attributes>", "data_attribute", None,
                                      f"expected shape [{n}, {width}] (one row per series), "
                                      f"got {list(attributes.shape)}")
            if given_attributes is not None:
                attributes = self.complete_attributes(attributes, given_attributes, seed)
            validate_attributes(attributes, self.attribute_outputs, "<attributes>")  # width, values
        rng = CounterNoise.from_seed(tf.constant(seed, tf.int64))  # the noise of a Philox generator reset from seed
        batch, per_call = self.config.generate_batch_size, self.config.generate_batches_per_call
        arrays = [np.empty((n, encoding.max_length, total_dim(encoding.feature_outputs)), np.float32),
                  np.empty((n, encoding.num_real_attributes), np.float32),
                  np.empty((n, encoding.max_length), np.float32)]
        start = 0
        while start < n:
            remaining = -(-(n - start) // batch)  # batches still to run
            count = min(per_call, 1 << (remaining.bit_length() - 1))  # then powers of two: few traces
            given = None
            if attributes is not None:
                given = np.zeros((count * batch, attributes.shape[1]), np.float32)
                chunk = attributes[start:start + count * batch]
                given[: len(chunk)] = chunk
                given = tf.constant(given)
            batches, rng.counter = self._sample(rng.counter, rng.key, batch, count, given,
                                                self.config.generate_early_exit, attribute_probabilities)
            for out in batches:
                for array, part in zip(arrays, out):  # decoded in the batch's graph; written in place
                    array[start:start + batch] = part.numpy()[: n - start]
                start += batch
        features, real_attributes, gen_flags = arrays
        return Dataset(features, real_attributes, gen_flags, list(encoding.feature_outputs),
                       list(encoding.attribute_outputs))

    def complete_attributes(
        self,
        attributes: np.ndarray,
        given: np.ndarray,
        seed: int,
        describe: Callable[[int], str] | None = None,
    ) -> np.ndarray:
        """Fill the attributes not given with draws conditioned on the given ones (:mod:`dg_tf.conditioning`).

        Args:
            attributes: float32 [n, A] with the given outputs filled in.
            given: bool [n, len(attribute_outputs)] which outputs are given.
            seed: seeds the draws.
            describe: names a row's labels in the error (see
                :func:`~dg_tf.conditioning.complete_attributes`).

        Returns:
            float32 [n, A] complete attributes.
        """
        self._require_built()
        given = np.asarray(given)
        if given.shape != (attributes.shape[0], len(self.attribute_outputs)) or given.dtype != bool:
            raise DataFormatError("<attributes>", "given_attributes", None,
                                  f"must be bool of shape [{attributes.shape[0]}, {len(self.attribute_outputs)}] "
                                  f"(rows x attribute outputs), got {given.dtype} {list(given.shape)}")
        if given.all():
            return attributes
        self._conditioning_rng.reset_from_seed(derive_seed(seed, "conditioning"))
        return complete_attributes(lambda b: self._draw_attributes(b).numpy(), self.attribute_outputs, attributes,
                                   given, describe=describe)

    def generate_dataframe(
        self,
        n: int | None = None,
        *,
        conditions: pd.DataFrame | None = None,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """Generate series as a table in the columns, dtypes and units of the table the model was fit on.

        Args:
            n: number of series; with ``conditions`` it may be left out (one
                series per row) or must equal their number of rows.
            conditions: one row per series, holding any subset of the
                attribute columns (:mod:`~dg_tf.tabular.conditions`): given
                values are honoured exactly, row-aligned (series ``i`` is
                row ``i``); missing cells and absent columns are drawn from
                the model conditioned on the given ones
                (:mod:`dg_tf.conditioning`).
            seed: seeds all noise; ``None`` draws a fresh seed each call.

        Returns:
            The table (see :func:`~dg_tf.tabular.to_dataframe`): new ids
            ``0..n-1`` (or ``"synthetic-i"``), each series at its own start
            when the training series had different starts.

        Raises:
            DGError: the model was not fit on a table, or ``n`` is missing or
                differs from the conditions' rows.
            DataFormatError: a condition names an unknown column, label or
                out-of-range value (the message names the row and the column).
        """
        schema = self._require_table_schema()
        if conditions is not None:
            if n is not None and n != len(conditions):
                raise DGError(f"n={brief(n)} differs from the {len(conditions)} rows of conditions "
                              "(one series per row)")
            return to_dataframe(self.generate_conditioned(conditions, seed=seed), schema)
        if n is None:
            raise DGError("n (the number of series) is required without conditions")
        self.check_generation_memory(n, table=True)
        return to_dataframe(self.generate(n, seed=seed), schema)

    def generate_conditioned(
        self, conditions: pd.DataFrame, *, seed: int | None = None, source: str = "<conditions>"
    ) -> Dataset:
        """One series per row of ``conditions``, as arrays: ``generate_dataframe(conditions=...)`` before the table.

        Args:
            conditions: see :meth:`generate_dataframe`.
            seed: seeds the draws of the missing attributes and all noise.
            source: the conditions' file, for errors.

        Returns:
            A :class:`Dataset` of ``len(conditions)`` series in the table's layout.

        Raises:
            DGError, DataFormatError: as :meth:`generate_dataframe`; nothing is generated.
        """
        schema = self._require_table_schema()
        attributes, given = encode_conditions(conditions, schema, source)
        self.check_generation_memory(len(conditions), table=True)
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        attributes = self.complete_attributes(attributes, given, seed,
                                              functools.partial(describe_conditions, conditions))
        return self.generate(len(conditions), attributes=attributes, seed=seed)

    def _require_table_schema(self) -> TableSchema:
        if self.table_schema is None:
            raise DGError("the model was not fit on a table (fit_dataframe, or fit(table_schema=...)); "
                          "use generate() for arrays")
        return self.table_schema

    @property
    def series_nbytes(self) -> int:
        """Bytes of one generated series: float32 features [L, K], gen flags [L] and attributes [A]."""
        encoding = self._require_built()
        return 4 * (encoding.max_length * (total_dim(encoding.feature_outputs) + 1) + encoding.num_real_attributes)

    def check_generation_memory(self, n: int, *, table: bool = False) -> int:
        """Refuse to generate ``n`` series at once when they would not fit in the available memory.

        The estimate is twice :attr:`series_nbytes` per series (the batches
        and their concatenation), and 16 times for a ``table``
        (:func:`~dg_tf.tabular.to_dataframe`'s long frame of 8-byte cells,
        with id and time columns, and its text); compared with
        :func:`~dg_tf.limits.available_memory`.

        Returns:
            The estimated bytes.

        Raises:
            DGError: over the available memory; the message says how many
                series fit, for ``--shard-size``.
        """
        per_series = self.series_nbytes * (16 if table else 2)
        needed, available = n * per_series, available_memory()
        if needed > available:
            raise DGError(
                f"refusing to generate {n} series at once: about {format_bytes(needed)} of memory "
                f"({format_bytes(per_series)} per series{' as a table' if table else ''}) and "
                f"{format_bytes(available)} is available. Generate in parts of at most "
                f"{max(available // per_series, 1)} series (python -m dg_tf.generate --shard-size K)"
            )
        return needed

    # ------------------------------------------------------------ scoring
    def critic_scores(
        self,
        dataset: Dataset,
        batch_size: int | None = None,
        *,
        auxiliary: bool = False,
        source: str = "<dataset>",
    ) -> np.ndarray:
        """The trained critic's score of each sample (higher = judged more real).

        Used by the membership inference attack (paper §6.2, Fig. 15; the
        original's ``discriminate_from``). The dataset is encoded
        exactly as for training (:meth:`Encoding.encode`: auto-normalization,
        min/max attributes, flag channels), and the critic sees the
        attributes as training shows them to it
        (``training.step.critic_attribute_view``). With PacGAN packing
        (``num_packing`` = k > 1) the critic sees k samples at once; here each
        sample is scored alone, repeated k times to fill the pack.

        Args:
            dataset: N samples with the model's specs and max length.
            batch_size: samples per critic call; default ``config.generate_batch_size``.
            auxiliary: score with the auxiliary attribute critic instead (it
                sees the attributes, real and min/max, only, as training shows
                them to it: ``training.step.aux_critic_view``).
            source: name of the data's origin, used in error messages.

        Returns:
            float32 [N] scores.

        Raises:
            DGError: the model is not trained, ``batch_size`` is not positive,
                or ``auxiliary`` is asked of a model without an auxiliary critic.
            DataFormatError: the data breaks the format or does not match the model.
        """
        encoding = self._require_built()
        batch_size = self.config.generate_batch_size if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise DGError(f"batch_size={batch_size!r} must be a positive integer")
        if auxiliary and self.aux_critic is None:
            raise DGError("auxiliary=True needs a model trained with use_aux_critic=True")
        validate_dataset(dataset, source)
        if (dataset.feature_outputs, dataset.attribute_outputs, dataset.max_length) != (
                list(encoding.feature_outputs), list(encoding.attribute_outputs), encoding.max_length):
            raise DataFormatError(source, "outputs", None,
                                  "the dataset's feature/attribute specs or max length differ from the model's")
        features, attributes = encoding.encode(dataset)
        k = self.config.num_packing
        scores = []
        for start in range(0, dataset.num_samples, batch_size):
            rows = tf.constant(np.repeat(attributes[start:start + batch_size], k, 0))
            if auxiliary:
                out = self.aux_critic(pack(aux_critic_view(self.config, self.generator, rows), k))
            else:
                packed_features = pack(tf.constant(np.repeat(features[start:start + batch_size], k, 0)), k)
                out = self.critic(packed_features, pack(critic_attribute_view(self.config, self.generator, rows), k))
            scores.append(out.numpy()[:, 0])
        return np.concatenate(scores).astype(np.float32)

    # ------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """Write the config, the encoding, the weights, and the privacy report and table schema if any.

        The folder's layout is :class:`~dg_tf.run.RunFolder`'s.
        """
        run = RunFolder(directory)
        run.write_description(self.config, self._require_built())
        run.write_weights(self._networks())
        run.write_records(self.privacy, self.table_schema)

    @classmethod
    def load(cls, directory: str | Path, runtime: RuntimeConfig | Mapping[str, Any] | None = None) -> "DoppelGANger":
        """Load a model written by :meth:`save` (or a finished training run).

        Args:
            directory: the model or run folder.
            runtime: how this process runs the model: a :class:`RuntimeConfig`,
                or some of its fields over the saved ones. By default the saved
                runtime settings on one device (:meth:`DGConfig.loaded_with`:
                a model trained on several workers generates on one machine).
                The model and training settings are always the saved ones.

        Raises:
            ConfigError: ``runtime`` names a model or training setting.
            DGError: a file is missing; ``config.json`` is invalid
                (:class:`ConfigError`); ``model.json`` is not JSON, lacks a
                field or holds an invalid one, or the weights are truncated,
                do not match the sizes in ``config.json`` / ``model.json`` or
                hold NaN / Inf (:class:`DataFormatError`, naming the file and
                field).
        """
        run = RunFolder(directory)
        run.require_model()
        config = run.read_config().loaded_with(runtime)
        encoding = run.read_encoding()
        model = cls(config, list(encoding.feature_outputs), list(encoding.attribute_outputs))
        model._build(encoding, str(run.model_file))
        run.read_weights(model._networks())
        model.privacy, model.table_schema = run.read_records()
        return model
