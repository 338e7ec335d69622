"""The paper's experiments on the FCC Measuring Broadband America data (Lin et al., IMC 2020).

- :mod:`.run`: Table 2, Fig. 20, Fig. 23, ACF and attribute marginals for DG
  and every baseline, and the sample_len sweep {1, 4, 8}
  (``python -m experiments.fcc_mba.run``).
- :mod:`.membership`: membership inference vs training-set size (Fig. 15)
  (``python -m experiments.fcc_mba.membership``).
- :mod:`.dp`: fidelity of DP training for several noise multipliers (Fig. 16)
  (``python -m experiments.fcc_mba.dp``).
- :mod:`.quick`: the top-level README's table for the default job
  (``python -m experiments.fcc_mba.quick``).
- :mod:`.configs`, :mod:`.metrics`, :mod:`.figures`: the configurations,
  numbers and plots they share.

See ``experiments/fcc_mba/README.md`` for the measured numbers.
"""
