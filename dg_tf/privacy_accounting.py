"""The privacy spent by DP training (paper §6.2), computed with Google's ``dp_accounting``.

DP training (:mod:`dg_tf.training.dp`) runs one DP-SGD step on the critics per
critic round: a Poisson sample (each of the N examples independently with
probability ``q = batch_size / N``), per-example gradients clipped to C, and
Gaussian noise of standard deviation ``sigma * C`` on each critic's summed
gradient. With the auxiliary critic both critics are updated on the *same*
sample, each clipped to C and noised with ``sigma * C``: one example moves the
concatenated gradient of both by at most ``C * sqrt(2)``, so the pair is one
Gaussian mechanism with noise multiplier ``sigma / sqrt(2)``
(:func:`effective_noise_multiplier`). The original halved sigma instead,
which over-states the privacy loss.

The whole run is ``SelfComposedDpEvent(PoissonSampledDpEvent(q,
GaussianDpEvent(sigma_eff)), steps)`` with ``steps = epochs * (N // batch_size)
* critic_rounds``, evaluated by the Rényi-DP accountant
(``dp_accounting.rdp.RdpAccountant``, add-or-remove-one adjacency, its default
orders) at the config's ``dp_delta``. The generator never sees real data, so it
is covered by post-processing; the TensorBoard loss scalars are computed on
the private batches without noise and are not.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dg_tf.config import DGConfig
from dg_tf.errors import DGError
from dg_tf.fileio import atomic_write, read_json
from dg_tf.limits import label

__all__ = [
    "ACCOUNTANT",
    "PrivacyReport",
    "compute_epsilon",
    "dp_event",
    "effective_noise_multiplier",
    "privacy_report",
    "sampling_probability",
]

if TYPE_CHECKING:
    import dp_accounting

#: The accountant's name as written to ``privacy.json``.
ACCOUNTANT = "dp_accounting.rdp.RdpAccountant (add-or-remove-one)"


def sampling_probability(batch_size: int, num_examples: int) -> float:
    """q = batch_size / N, the Poisson sampling probability (at most 1)."""
    return min(1.0, batch_size / num_examples)


def effective_noise_multiplier(noise_multiplier: float, num_critics: int) -> float:
    """sigma of the joint Gaussian mechanism when ``num_critics`` critics share each sample."""
    return noise_multiplier / math.sqrt(num_critics)


def dp_event(noise_multiplier: float, sampling_probability: float, steps: int) -> dp_accounting.DpEvent:
    """``steps`` Poisson-sampled Gaussian mechanisms (noise multiplier = noise std / sensitivity)."""
    import dp_accounting  # here, not at the top: it took 0.13 s of every process that loads a model

    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(sampling_probability, dp_accounting.GaussianDpEvent(noise_multiplier)),
        steps,
    )


class _NoConvergenceWarnings(logging.Filter):
    """Drops the RDP accountant's "failed to converge" warnings.

    For large q some fractional Rényi orders do not converge; the accountant
    then leaves them out of the minimum over orders (the result stays valid)
    but warns once per order and call, i.e. every epoch.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "failed to converge" not in record.getMessage()


def compute_epsilon(noise_multiplier: float, sampling_probability: float, steps: int, delta: float) -> float:
    """epsilon of ``steps`` Poisson-sampled Gaussian steps at ``delta`` (RDP accountant).

    Returns 0 for no steps and ``inf`` for ``noise_multiplier == 0``.
    """
    if steps == 0:
        return 0.0
    from dp_accounting import rdp

    accountant = rdp.RdpAccountant()
    absl_logger = logging.getLogger("absl")  # dp_accounting logs through absl
    quiet = _NoConvergenceWarnings()
    absl_logger.addFilter(quiet)
    try:
        accountant.compose(dp_event(noise_multiplier, sampling_probability, steps))
        return float(accountant.get_epsilon(delta))
    finally:
        absl_logger.removeFilter(quiet)


@dataclasses.dataclass(frozen=True)
class PrivacyReport:
    """The (epsilon, delta)-DP guarantee of a DP training run.

    Attributes:
        noise_multiplier: sigma of the config (noise std / C per critic).
        effective_noise_multiplier: sigma of the accounted mechanism (both critics together).
        l2_clip: C.
        sampling_probability: q.
        num_examples: N, the training series.
        steps: critic updates (DP-SGD steps) accounted.
        delta: delta.
        epsilon: epsilon at ``delta``; ``inf`` when sigma is 0 (``null`` in JSON).
        accountant: how epsilon was computed.
    """

    noise_multiplier: float
    effective_noise_multiplier: float
    l2_clip: float
    sampling_probability: float
    num_examples: int
    steps: int
    delta: float
    epsilon: float
    accountant: str = ACCOUNTANT

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["epsilon"] = self.epsilon if math.isfinite(self.epsilon) else None
        return data

    def save(self, path: str | Path) -> None:
        """Write the report as JSON, atomically."""
        with atomic_write(path, "w") as f:
            json.dump(self.to_dict(), f, indent=2)

    @classmethod
    def load(cls, path: str | Path) -> "PrivacyReport":
        """Read a report written by :meth:`save`; a broken file is a :class:`DGError` naming it."""
        data = read_json(path)
        try:
            data["epsilon"] = math.inf if data["epsilon"] is None else data["epsilon"]
            return cls(**data)
        except (ValueError, KeyError, TypeError) as err:
            raise DGError(f"{path}: not a privacy report ({label(str(err), 200)})") from None


def privacy_report(config: DGConfig, num_examples: int, steps: int) -> PrivacyReport:
    """The guarantee of ``steps`` DP critic rounds of ``config`` on ``num_examples`` series.

    A run of E epochs of S steps has ``E * S * critic_rounds`` of them.

    Raises:
        DGError: ``config`` does not enable DP.
    """
    if config.dp_noise_multiplier is None:
        raise DGError("dp_noise_multiplier is None: the run is not differentially private")
    q = sampling_probability(config.batch_size, num_examples)
    sigma = effective_noise_multiplier(config.dp_noise_multiplier, 2 if config.use_aux_critic else 1)
    return PrivacyReport(
        noise_multiplier=config.dp_noise_multiplier,
        effective_noise_multiplier=sigma,
        l2_clip=config.dp_l2_clip,
        sampling_probability=q,
        num_examples=num_examples,
        steps=steps,
        delta=config.dp_delta,
        epsilon=compute_epsilon(sigma, q, steps, config.dp_delta),
    )
