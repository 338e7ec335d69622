"""dg_tf: DoppelGANger in TensorFlow 2 / Keras 3."""
