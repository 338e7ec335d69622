"""Converters from the paper's three raw public datasets to the original DG triple.

Each module turns one raw public release into the on-disk format of the
original DoppelGANger code (``data_feature_output.pkl``,
``data_attribute_output.pkl``, ``data_train.npz`` / ``data_test.npz``),
following the paper's appendix A (Lin et al., IMC 2020) and §5.1.1:

* :mod:`data.converters.wwt`: Wikipedia Web Traffic (Kaggle ``train_1.csv``);
* :mod:`data.converters.gcut`: Google Cluster Usage Traces 2011
  (``task_events`` + ``task_usage`` part files);
* :mod:`data.converters.fcc_mba`: FCC Measuring Broadband America
  (``curr_netusage.csv`` + ``curr_udplatency.csv`` + a unit profile).

Each is runnable from the repository root as
``python -m data.converters.<name> --input ... --out DIR`` and callable as
``data.converters.<name>.convert(...)``. See ``data/README.md``.
"""
