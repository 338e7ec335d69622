"""Scripts that regenerate the paper's tables and figures (``python -m evaluation.<script>``).

Each script compares one real dataset folder (the original triple) with one or
more synthetic ``.npz`` files, prints its table as Markdown and, with
``--out DIR``, writes the table as CSV/JSON and the figure as PNG. The metrics
are those of :mod:`dg_tf.evaluation`; :mod:`evaluation.common` holds the shared
command-line plumbing. See ``evaluation/README.md``.
"""
