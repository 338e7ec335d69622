"""The paper's Wikipedia Web Traffic experiment (Lin et al., IMC 2020): ``python -m experiments.wwt.run``."""
