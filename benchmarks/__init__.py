"""Speed and memory of dg_tf against gretel-synthetics' PyTorch DGAN, side by side.

Run from the repository root as ``python -m benchmarks.bench`` (see
``benchmarks/README.md``). Nothing here imports TensorFlow or PyTorch at module
level: :mod:`benchmarks.common` and :mod:`benchmarks.peer_runner` also run in the
peer's own virtual environment, which has neither dg_tf nor TensorFlow.
"""
