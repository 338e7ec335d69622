"""The README's two commands stay true: CI runs exactly the README's test command."""

from conftest import REPO


def _readme_commands():
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index("```bash")
    return lines[start + 1], lines[start + 2]


def test_readme_starts_with_the_two_commands():
    main_job, tests = _readme_commands()
    assert main_job.endswith("python -m dg_tf.train")
    assert tests.endswith("python -m pytest -q") and '".[test]"' in tests


def test_ci_runs_the_readme_test_command():
    _, tests = _readme_commands()
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_bundled_dataset_is_the_paper_triple():
    names = {p.name for p in (REPO / "data" / "FCC_MBA").iterdir()}
    assert {"data_feature_output.pkl", "data_attribute_output.pkl", "data_train.npz", "data_test.npz"} <= names
