"""``DoppelGANger``: the public model (fit, generate, save, load).

Works in the dataset's own space: ``fit`` takes a :class:`~dg_tf.data.Dataset`
and ``generate`` returns one, features in the input's scale, discrete
attributes one-hot. Encoding (auto-normalization, generation flags) and
decoding happen inside (see :mod:`dg_tf.encoding`).

A model folder (``save``/``load``, and every training run folder) holds:
``config.json`` (the :class:`~dg_tf.config.DGConfig`), ``model.json`` (specs and
sizes, human-readable), ``weights/`` (generator and critics) and, for a model
trained with differential privacy (paper §6.2), ``privacy.json`` (its
:class:`~dg_tf.privacy_accounting.PrivacyReport`).

:meth:`DoppelGANger.retrain_attributes` changes the attribute distribution of
a trained model without touching how series are generated for given
attributes (paper §6.1).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import tempfile
from pathlib import Path
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Output, total_dim
from dg_tf.data.validation import validate_attributes, validate_dataset
from dg_tf.encoding import Encoding
from dg_tf.errors import ConfigError, DataFormatError, DGError
from dg_tf.fileio import atomic_write, open_regular, read_json
from dg_tf.limits import available_memory, brief, format_bytes
from dg_tf.models import AttributeCritic, Critic, Generator
from dg_tf.plotting import figure_to_image, plot_series
from dg_tf.privacy_accounting import PRIVACY_FILE, PrivacyReport
from dg_tf.seeding import derive_seed
from dg_tf.training import (
    CHECKPOINT_ERRORS,
    AttributeTrainer,
    Progress,
    Trainer,
    is_chief,
    pack,
    strategy_scope,
    uses_xla,
)

__all__ = ["DoppelGANger"]

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
MODEL_FILE = "model.json"
MODEL_FORMAT = "dg_tf-model-1"
WEIGHTS_PREFIX = "weights/weights"
#: Bytes per number of the networks while training: float32 value, two Adam slots (activations:
#: real, fake, interpolated), gradient.
_TRAINING_BYTES_PER_NUMBER = 16
#: Seed of the series drawn for the training figures (the same ones every time).
FIGURE_SEED = 12345


class DoppelGANger:
    """DoppelGANger for time series with metadata (Lin et al., IMC 2020).

    Args:
        config: hyperparameters; ``None`` uses the paper's defaults.
        feature_outputs: specs of the feature columns of the data to fit.
        attribute_outputs: specs of its attribute columns.
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
        #: The DP guarantee of the weights (set by a DP ``fit`` or read by ``load``); ``None`` without DP.
        self.privacy: PrivacyReport | None = None

    # ----------------------------------------------------------- networks
    def _build(self, encoding: Encoding, source: str = "<model>") -> None:
        """Create the networks for ``encoding`` and their variables (under ``config.strategy``'s scope).

        Raises:
            DataFormatError: ``encoding`` has no feature column, or no
                attribute at all (neither real nor min/max ones).
            ConfigError: the networks would not fit in the available memory.
        """
        _check_buildable(self.config, encoding, source)
        c = self.config
        self.encoding = encoding
        policy = self._dtype_policy
        with strategy_scope(c.strategy):
            self.generator = Generator(
                c, encoding.model_feature_outputs, list(encoding.attribute_outputs),
                encoding.addi_outputs, encoding.max_length, encoding.sample_len, encoding.lengths,
                fused_lstm=not uses_xla(c), synchronized_batch_norm=c.strategy != "default",
                dtype=policy, name="generator",
            )
            self.critic = Critic(c.critic_hidden_layers, c.critic_hidden_units,
                                 derive_seed(c.seed, "critic"), dtype=policy, name="critic")
            self.aux_critic = (
                AttributeCritic(c.aux_critic_hidden_layers, c.aux_critic_hidden_units,
                                derive_seed(c.seed, "aux_critic"), dtype=policy, name="aux_critic")
                if c.use_aux_critic else None
            )
            probe_rng = tf.random.Generator.from_seed(0)
            fake = self.generator(self.generator.sample_noise(probe_rng, c.num_packing), training=False)
            packed_features = tf.reshape(fake["features"], [1, -1])
            packed_attributes = tf.reshape(fake["attributes"], [1, -1])
            self.critic(packed_features, packed_attributes)
            if self.aux_critic is not None:
                self.aux_critic(packed_attributes)
        #: Draws the noise of generate(); reset from the seed at each call (not saved).
        self._generation_rng = tf.random.Generator.from_seed(0)
        self._sample = tf.function(self._sample_batch, jit_compile=uses_xla(c), autograph=False)

    @property
    def _dtype_policy(self) -> keras.DTypePolicy | None:
        """The Keras dtype policy of every network (``config.precision``); ``None``: float32 throughout."""
        precision = self.config.precision
        return None if precision == "float32" else keras.DTypePolicy(precision)

    def _networks(self) -> dict[str, keras.Model]:
        parts = dict(generator=self.generator, critic=self.critic)
        if self.aux_critic is not None:
            parts["aux_critic"] = self.aux_critic
        return parts

    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(**self._networks())

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
        progress: Progress | None = None,
        source: str = "<dataset>",
    ) -> "DoppelGANger":
        """Train on ``dataset`` for ``config.epochs`` epochs.

        Args:
            dataset: training data matching the model's specs.
            run_dir: folder for ``config.json``/``model.json`` (written before
                the first epoch, after a resume's checkpoint is restored),
                ``checkpoints/`` and, at the end, the weights; ``None`` keeps
                nothing on disk. Under ``strategy="multi-worker"`` only the
                chief writes it (the folder must be shared for ``resume``).
            logdir: TensorBoard folder; default ``run_dir/logs``.
            resume: continue from the latest checkpoint in ``run_dir``.
            progress: receives per-step and per-epoch progress.
            source: name of the data's origin, used in error messages.

        Raises:
            DataFormatError: the data breaks the format or does not match the specs.
            TrainingDivergedError: a loss became NaN/Inf.
        """
        if dataset.feature_outputs != self.feature_outputs or dataset.attribute_outputs != self.attribute_outputs:
            raise DataFormatError(source, "outputs", None,
                                  "the dataset's feature/attribute specs differ from the model's")
        validate_dataset(dataset, source)
        encoding = Encoding.for_dataset(dataset, self.config, source)
        if self.encoding is None or self.encoding != encoding:
            self._build(encoding, source)
        features, attributes = encoding.encode(dataset)
        run_path = Path(run_dir) if run_dir is not None else None
        if resume and run_path is None:
            raise DGError("resume=True needs the run_dir whose checkpoints to resume")
        with contextlib.ExitStack() as cleanup:
            if run_path is not None and not self.writes_run_files:
                # every multi-worker task takes part in saving checkpoints; the others' go to scratch
                checkpoint_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="dg_tf-worker-")))
                logdir = None
            elif run_path is not None:
                checkpoint_dir = run_path / "checkpoints"
                logdir = logdir if logdir is not None else run_path / "logs"
            else:
                checkpoint_dir = None
            trainer = Trainer(
                self.config, self.generator, self.critic, self.aux_critic, features, attributes,
                checkpoint_dir=checkpoint_dir, logdir=logdir, figure_fn=self._figure,
            )
            if resume and trainer.restore(run_path / "checkpoints") == 0:
                logger.warning("no checkpoint in %s; training from the start", run_path / "checkpoints")
            if run_path is not None and self.writes_run_files:  # after a restore that matched: the settings in force
                self._save_description(run_path)
            self._train(trainer, dataset, encoding, progress)
        if run_path is not None and self.writes_run_files:
            self.save(run_path)
        return self

    @property
    def writes_run_files(self) -> bool:
        """Whether this process writes run folders: always, except a non-chief task of a multi-worker run
        (:func:`~dg_tf.training.is_chief`)."""
        return self.config.strategy != "multi-worker" or is_chief()

    def _train(self, trainer: Trainer, dataset: Dataset, encoding: Encoding, progress: Progress | None) -> None:
        """Run ``trainer`` for ``config.epochs`` epochs and keep its privacy report."""
        logger.info(
            "training on %d series of length %d (sample_len %d) for %d epochs of %d steps",
            dataset.num_samples, dataset.max_length, encoding.sample_len,
            self.config.epochs, trainer.steps_per_epoch,
        )
        if encoding.lengths.fixed is not None:
            logger.info("every training series has %d steps: generation flags would carry no information, so the "
                        "model has none and generates series of exactly %d steps",
                        encoding.lengths.fixed, encoding.lengths.fixed)
        elif encoding.lengths.minimum > 1:
            logger.info("series lengths %d..%d: generated series end at their first stop flag, never before step %d "
                        "(the shortest training series)", encoding.lengths.minimum,
                        int(dataset.lengths.max()), encoding.lengths.minimum)
        trainer.train(self.config.epochs, progress)
        self.privacy = trainer.privacy_report()
        if self.privacy is not None:
            logger.info(
                "differential privacy: epsilon %.4g at delta %g (sigma %g, C %g, q %.4g, %d critic steps)",
                self.privacy.epsilon, self.privacy.delta, self.privacy.noise_multiplier,
                self.privacy.l2_clip, self.privacy.sampling_probability, self.privacy.steps,
            )

    def retrain_attributes(
        self,
        attributes: np.ndarray,
        epochs: int,
        *,
        run_dir: str | Path | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
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
                and TensorBoard logs go to ``run_dir/logs``.
            seed: seeds the fresh critic, batches and noise; default ``config.seed``.
            progress: receives per-step and per-epoch progress.
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
                dtype=self._dtype_policy, name="retrain_critic",
            )
            critic(tf.constant(attributes[:1]))
        run_path = Path(run_dir) if run_dir is not None else None
        trainer = AttributeTrainer(c, self.generator, critic, attributes, seed=seed,
                                   logdir=run_path / "logs" if run_path is not None else None)
        logger.info("retraining the attribute generator on %d attribute rows for %d epochs of %d steps",
                    attributes.shape[0], epochs, trainer.steps_per_epoch)
        trainer.train(epochs, progress)
        if run_path is not None:
            self.save(run_path)

    def _figure(self, epoch: int) -> np.ndarray:
        sample = self.generate(5, seed=FIGURE_SEED)
        return figure_to_image(plot_series(sample, title=f"generated series, epoch {epoch}"))

    # --------------------------------------------------------- generation
    def _sample_batch(self, batch_size: int, attributes: tf.Tensor | None):
        """One generation batch (compiled): noise from the generation RNG, then the inference forward pass.

        Returns encoded features [B, L, D], attributes [B, A] and gen_flags [B, L].
        """
        noise = self.generator.sample_noise(self._generation_rng, batch_size)
        out = self.generator.generate(noise, attributes)
        return out["features"], out["attributes"], out["gen_flags"]

    def generate(
        self,
        n: int,
        attributes: np.ndarray | None = None,
        seed: int | None = None,
        *,
        attribute_probabilities: bool = False,
    ) -> Dataset:
        """Generate ``n`` series with their attributes.

        Runs in batches of ``config.generate_batch_size`` (the last one is
        generated whole and truncated, so ``generate(n)`` is a prefix of
        ``generate(m)`` for m > n with the same seed), each one compiled call
        that draws the batch's noise and runs the generator; the LSTM stops
        once every series of a group of rows has ended
        (:meth:`Generator.generate`).

        Args:
            n: number of series.
            attributes: float32 [n, A] given real attributes, row-aligned with
                the output (conditional generation, paper §4.3): only the min/max
                and feature generators run.
            seed: seeds all noise; ``None`` draws a fresh seed each call.
            attribute_probabilities: return the generator's probabilities for
                discrete attributes instead of one-hot.

        Returns:
            A :class:`Dataset` in the input's scale; ``dataset.lengths`` are the
            generated lengths.

        Raises:
            DGError: ``n`` is not a positive integer, or its output would not
                fit in the available memory (:meth:`check_generation_memory`;
                nothing is generated).
        """
        encoding = self._require_built()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DGError(f"n={brief(n)} must be a positive integer")
        self.check_generation_memory(int(n))
        if attributes is not None:
            attributes = np.asarray(attributes, dtype=np.float32)
            validate_attributes(attributes, self.attribute_outputs, "<attributes>")  # rank, width, values
            if attributes.shape[0] != n:
                raise DataFormatError("<attributes>", "data_attribute", None,
                                      f"expected shape [{n}, {attributes.shape[1]}] (one row per series), "
                                      f"got {list(attributes.shape)}")
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self._generation_rng.reset_from_seed(seed)
        batch = self.config.generate_batch_size
        parts: list[Dataset] = []
        for start in range(0, n, batch):
            given = None
            if attributes is not None:
                given = np.zeros((batch, attributes.shape[1]), np.float32)
                chunk = attributes[start:start + batch]
                given[: len(chunk)] = chunk
                given = tf.constant(given)
            features, all_attributes, gen_flags = (t.numpy()[: n - start] for t in self._sample(batch, given))
            # decoded batch by batch: row-wise, the same as at once, with small temporaries
            parts.append(encoding.decode(features, all_attributes, gen_flags,
                                         attribute_probabilities=attribute_probabilities))
        if len(parts) == 1:
            return parts[0]
        return dataclasses.replace(
            parts[0], **{name: np.concatenate([getattr(p, name) for p in parts])
                         for name in ("features", "attributes", "gen_flags")}
        )

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

        Used by the membership inference attack (paper §6.2, Fig. 15;
        ORIGINAL_DG_SPEC.md §8 ``discriminate_from``). The dataset is encoded
        exactly as for training (:meth:`Encoding.encode`: auto-normalization,
        min/max attributes, flag channels). With PacGAN packing
        (``num_packing`` = k > 1) the critic sees k samples at once; here each
        sample is scored alone, repeated k times to fill the pack.

        Args:
            dataset: N samples with the model's specs and max length.
            batch_size: samples per critic call; default ``config.generate_batch_size``.
            auxiliary: score with the auxiliary attribute critic instead (it
                sees the attributes, real and min/max, only).
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
            packed_attributes = pack(tf.constant(np.repeat(attributes[start:start + batch_size], k, 0)), k)
            if auxiliary:
                out = self.aux_critic(packed_attributes)
            else:
                packed_features = pack(tf.constant(np.repeat(features[start:start + batch_size], k, 0)), k)
                out = self.critic(packed_features, packed_attributes)
            scores.append(out.numpy()[:, 0])
        return np.concatenate(scores).astype(np.float32)

    # ------------------------------------------------------- persistence
    def _save_description(self, directory: Path) -> None:
        encoding = self._require_built()
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_write(directory / CONFIG_FILE, "w") as f:
            f.write(self.config.to_json())
        with atomic_write(directory / MODEL_FILE, "w") as f:
            json.dump({"format": MODEL_FORMAT, "encoding": encoding.to_dict()}, f, indent=2)

    def save(self, directory: str | Path) -> None:
        """Write config, specs, the weights of all networks and any privacy report to ``directory``."""
        directory = Path(directory)
        self._save_description(directory)
        self._checkpoint().write(str(directory / WEIGHTS_PREFIX))
        if self.privacy is not None:
            self.privacy.save(directory / PRIVACY_FILE)
        else:  # a report left by an earlier DP model in this folder would be a false claim
            (directory / PRIVACY_FILE).unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: str | Path) -> "DoppelGANger":
        """Load a model written by :meth:`save` (or a finished training run).

        The model runs on this process's default device: the training
        ``strategy`` in the saved config becomes "default" (a model trained
        on several workers generates on one machine).

        Raises:
            DGError: a file is missing; ``config.json`` is invalid
                (:class:`ConfigError`); ``model.json`` is not JSON, lacks a
                field or holds an invalid one, or the weights are truncated,
                do not match the sizes in ``config.json`` / ``model.json`` or
                hold NaN / Inf (:class:`DataFormatError`, naming the file and
                field).
        """
        directory = Path(directory)
        for name in (CONFIG_FILE, MODEL_FILE):
            if not (directory / name).exists():
                raise DGError(f"{directory}: missing {name}; is this a dg_tf model or run folder?")
        config = DGConfig.from_file(directory / CONFIG_FILE).replace(strategy="default")
        encoding = _read_encoding(directory / MODEL_FILE)
        model = cls(config, list(encoding.feature_outputs), list(encoding.attribute_outputs))
        model._build(encoding, str(directory / MODEL_FILE))
        prefix = directory / WEIGHTS_PREFIX
        if not Path(f"{prefix}.index").exists():
            raise DGError(f"{directory}: no weights at {prefix} (training not finished?)")
        for file in prefix.parent.glob(prefix.name + ".*"):
            with open_regular(file):  # TensorFlow would block on a FIFO or read /dev/zero forever
                pass
        try:
            model._checkpoint().read(str(prefix)).assert_existing_objects_matched()
        except CHECKPOINT_ERRORS as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DataFormatError(
                f"{prefix}.index", "weights", None,
                f"cannot be read or do not match the sizes in {CONFIG_FILE} and {MODEL_FILE} "
                f"(truncated or edited?): {first[:200]}",
            ) from None
        for variable in (v for network in model._networks().values() for v in network.variables):
            if not np.isfinite(variable.numpy()).all():
                raise DataFormatError(f"{prefix}.index", "weights", None, f"{variable.path} holds NaN or Inf")
        if (directory / PRIVACY_FILE).is_file():
            model.privacy = PrivacyReport.load(directory / PRIVACY_FILE)
        return model


def _read_encoding(file: Path) -> Encoding:
    """The :class:`Encoding` in ``model.json``, every field checked (errors name the file and field)."""
    where = str(file)
    data = read_json(file)
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        got = brief(data.get("format")) if isinstance(data, dict) else f"a JSON {type(data).__name__}"
        raise DataFormatError(where, "format", None, f"must be {MODEL_FORMAT!r} (a dg_tf model description), got {got}")
    return Encoding.from_dict(data.get("encoding"), where, "encoding.")


def _memory_floats(config: DGConfig, encoding: Encoding) -> int:
    """About how many numbers the networks' variables and one batch's activations hold (Python ints).

    Variables: dense kernels of the attribute MLPs, the LSTM and its heads,
    and the critics, whose input is the packed series ``num_packing x L x D``.
    Activations: per sample of the larger of the training batch (times
    ``num_packing``) and the generation batch, its series, attributes and
    the LSTM's gates at each of the L/S passes. An estimate for
    :func:`_check_buildable`, not a count.
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
    packed = c.num_packing * (encoding.max_length * features + attributes)
    critic = mlp(packed, c.critic_hidden_layers, c.critic_hidden_units, 1)
    if c.use_aux_critic:
        critic += mlp(c.num_packing * attributes, c.aux_critic_hidden_layers, c.aux_critic_hidden_units, 1)
    per_sample = (encoding.max_length * features + attributes
                  + encoding.max_length // encoding.sample_len * c.feature_lstm_layers * 8 * units)
    batch = max(c.batch_size * c.num_packing, c.generate_batch_size)
    return generator + critic + batch * per_sample


def _check_buildable(config: DGConfig, encoding: Encoding, source: str) -> None:
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
