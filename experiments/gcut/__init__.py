"""The paper's Google Cluster Usage Traces experiment (Lin et al., IMC 2020): ``python -m experiments.gcut.run``."""
