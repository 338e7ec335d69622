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
    names = {p.name for p in (REPO / "dg_tf" / "datasets" / "fcc_mba").iterdir()}
    assert {"data_feature_output.pkl", "data_attribute_output.pkl", "data_train.npz", "data_test.npz"} <= names


def _modules():
    return sorted((REPO / "dg_tf").rglob("*.py"))


def test_no_library_module_imports_the_command_line():
    """Only dg_tf/cli/ and the ``python -m dg_tf.<command>`` shims may import dg_tf.cli."""
    import ast

    shims = {"train.py", "generate.py", "prepare.py", "evaluate.py", "retrain_attributes.py", "export.py", "__main__.py"}
    offenders = []
    for path in _modules():
        relative = path.relative_to(REPO / "dg_tf")
        if relative.parts[0] == "cli" or (len(relative.parts) == 1 and relative.name in shims):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{relative}: {name}" for name in names if name == "dg_tf.cli" or name.startswith("dg_tf.cli.")]
    assert offenders == []


def test_long_modules_say_why_in_their_docstring():
    """A module over 400 lines states, in its docstring, why it is not split."""
    import ast

    long = {path.relative_to(REPO).as_posix(): ast.get_docstring(ast.parse(path.read_text())) or ""
            for path in _modules() if len(path.read_text().splitlines()) > 400}
    assert [name for name, doc in long.items() if "longer than 400 lines" not in doc] == []


def test_nothing_shipped_points_outside_the_repository():
    texts = {path: path.read_text() for path in _modules()}
    assert [str(path) for path, text in texts.items()
            if "ORIGINAL_DG_SPEC" in text or "STYLE.md" in text or "../shared" in text] == []
