"""Training DoppelGANger (paper §4.3, appendix B; §6.1 retraining; §6.2 differential privacy).

- :mod:`~dg_tf.training.step`: the training step, the algorithm in one function;
- :mod:`~dg_tf.training.loop`: epochs as compiled chunks of steps, with callbacks and checkpointable state;
- :mod:`~dg_tf.training.callbacks`: checkpoints, TensorBoard, the NaN stop, figures, the privacy epsilon;
- :mod:`~dg_tf.training.trainer`: a run of the step in the loop with its callbacks;
- :mod:`~dg_tf.training.distribute`: ``tf.distribute`` replicas;
- :mod:`~dg_tf.training.dp`: the DP-SGD critic update;
- :mod:`~dg_tf.training.retrain`: retraining the attribute generator alone;
- :mod:`~dg_tf.training.standing`: the generator's BatchNorm statistics once training is over.
"""

from dg_tf.training.callbacks import ProgressBar
from dg_tf.training.retrain import AttributeTrainer
from dg_tf.training.trainer import Trainer

__all__ = ["AttributeTrainer", "ProgressBar", "Trainer"]
