"""Fuzz: a few hundred seeded mutations of dataset folders, tables and run folders.

Each variant must give a valid result or a :class:`~dg_tf.errors.DGError`,
never another exception, a hang or a crash. The variants run in a child
process (this file run as a script), so that a crash (an abort inside
TensorFlow or oneDNN) or a hang fails this test instead of the suite: the
child logs each variant before running it, every variant has an alarm, and
the child as a whole a timeout. Everything is seeded: the same variants run
every time.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

SEED = 15
#: Variants per category.
COUNTS = {"dataset": 200, "table": 120, "run": 60}
#: Seconds one variant may take in the child before it counts as a hang.
VARIANT_SECONDS = 20
CHILD_SECONDS = 240


def test_fuzzed_inputs_give_a_result_or_one_dg_error(tmp_path):
    began = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, str(tmp_path)], capture_output=True, text=True,
                            timeout=CHILD_SECONDS, cwd=tmp_path)
    log = (tmp_path / "fuzz.log").read_text().splitlines() if (tmp_path / "fuzz.log").exists() else []
    started = [line for line in log if line.startswith("start ")]
    assert result.returncode == 0, f"the child died (exit {result.returncode}) during {started[-1:]}\n" \
                                   f"{result.stderr[-3000:]}"
    outcomes = [json.loads(line[5:]) for line in log if line.startswith("done ")]
    bad = [o for o in outcomes if o["outcome"] == "bad"]
    assert not bad, "\n\n".join(f"{o['category']} {o['variant']}:\n{o['detail']}" for o in bad[:5])
    assert len(outcomes) == len(started) == sum(COUNTS.values())
    for category in COUNTS:  # the fuzz is not vacuous: each category has both valid and refused variants
        kinds = {o["outcome"] for o in outcomes if o["category"] == category}
        assert kinds == {"valid", "refused"}, (category, kinds)
    assert not (tmp_path / "pwned").exists()  # no pickle ran code
    errors = [o["detail"] for o in outcomes if o["outcome"] == "refused"]
    assert all("\n" not in e and len(e) < 1000 for e in errors), max(errors, key=len)
    assert time.perf_counter() - began < 90  # measured: about 35 s on the 2-core CI machine


# ============================================================================ the child


def _child(root: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ["DG_TF_MEMORY_BYTES"] = str(4 << 30)  # the same limits on every machine
    from conftest import TINY, make_toy_dataset
    from dg_tf import DGConfig, DGError, DoppelGANger, from_dataframe, load_dataset, read_table, save_dataset

    rng = np.random.default_rng(SEED)
    base = root / "base"
    dataset = make_toy_dataset(n=12, length=4)
    dataset.extras = {"data_feature_min": np.zeros(2, np.float32)}
    save_dataset(base / "data", dataset)
    (base / "data" / "dg_config.json").write_text(json.dumps({"sample_len": 2, "batch_size": 4}))
    table = _table(rng)
    table.to_csv(base / "table.csv", index=False)
    model = DoppelGANger(DGConfig(**{**TINY, "epochs": 1, "batch_size": 4}), dataset.feature_outputs,
                         dataset.attribute_outputs)
    model.fit(dataset)
    model.save(base / "run")

    def load_data(folder: Path) -> None:
        if (folder / "dg_config.json").exists():
            DGConfig.from_file(folder / "dg_config.json")
        load_dataset(folder)

    def load_table(path: Path) -> None:
        frame = read_table(path, keep_leading_zeros=True)
        from_dataframe(frame, id_column="id", time_column="t", attribute_columns=["site", "wired"],
                       feature_columns=["x", "n"], source=str(path))

    def load_run(folder: Path) -> None:
        loaded = DoppelGANger.load(folder)
        sample = loaded.generate(3, seed=1)
        assert np.isfinite(sample.features).all() and sample.features.shape == (3, 4, 4)

    categories = {
        "dataset": (base / "data", _dataset_mutations(), load_data),
        "table": (base / "table.csv", _table_mutations(), load_table),
        "run": (base / "run", _run_mutations(), load_run),
    }
    signal.signal(signal.SIGALRM, _on_alarm)
    with open(root / "fuzz.log", "w", buffering=1) as log:
        for category, (original, mutations, check) in categories.items():
            for number in range(COUNTS[category]):
                name, mutate = mutations[int(rng.integers(len(mutations)))]
                variant = f"{number}:{name}"
                target = root / category / str(number) / original.name
                target.parent.mkdir(parents=True)
                (shutil.copytree if original.is_dir() else shutil.copy)(original, target)
                mutate(target, np.random.default_rng([SEED, number, len(category)]))
                log.write(f"start {category} {variant}\n")
                signal.alarm(VARIANT_SECONDS)
                try:
                    check(target)
                    outcome, detail = "valid", ""
                except DGError as err:
                    outcome, detail = "refused", str(err)
                except BaseException:  # noqa: BLE001 - anything else is what this test looks for
                    outcome, detail = "bad", traceback.format_exc()[-3000:]
                finally:
                    signal.alarm(0)
                log.write("done " + json.dumps({"category": category, "variant": variant, "outcome": outcome,
                                                "detail": detail}) + "\n")


class _Hang(BaseException):
    """A variant ran past its alarm (a BaseException, so no ``except Exception`` hides it)."""


def _on_alarm(signum, frame):
    raise _Hang(f"no result after {VARIANT_SECONDS} s")


# ============================================================================ files


Mutation = tuple[str, Callable[[Path, np.random.Generator], None]]


def _pick(path: Path, rng: np.random.Generator, pattern: str = "*") -> Path:
    """A random file of a folder (``path`` itself if it is a file)."""
    if path.is_file():
        return path
    files = sorted(p for p in path.rglob(pattern) if p.is_file())
    return files[int(rng.integers(len(files)))]


def _file_mutations(pattern: str = "*") -> list[Mutation]:
    """Damage to the bytes or the kind of one file: what careless copying and hostile senders do."""

    def truncate(path, rng):
        file = _pick(path, rng, pattern)
        data = file.read_bytes()
        file.write_bytes(data[: int(rng.integers(len(data) + 1))])

    def flip(path, rng):
        file = _pick(path, rng, pattern)
        data = bytearray(file.read_bytes())
        for _ in range(int(rng.integers(1, 9))):
            if data:
                data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        file.write_bytes(bytes(data))

    def garbage(path, rng):
        _pick(path, rng, pattern).write_bytes(rng.bytes(int(rng.integers(0, 300))))

    def append(path, rng):
        file = _pick(path, rng, pattern)
        file.write_bytes(file.read_bytes() + rng.bytes(int(rng.integers(1, 100))))

    def replace_by(kind):
        def mutate(path, rng):
            file = _pick(path, rng, pattern)
            file.unlink()
            if kind == "fifo":
                os.mkfifo(file)
            elif kind == "dev/zero":
                file.symlink_to("/dev/zero")
            elif kind == "folder":
                file.mkdir()
            elif kind == "dangling symlink":
                file.symlink_to(file.with_name("nowhere"))
        return mutate

    return [("truncate", truncate), ("flip bits", flip), ("garbage", garbage), ("append", append),
            *[(f"{kind} instead", replace_by(kind)) for kind in ("fifo", "dev/zero", "folder", "dangling symlink",
                                                                  "deleted")]]


# ============================================================================ JSON


HOSTILE_JSON_VALUES = [None, True, -1, 0, 1, 2**31, 2**63, 10**40, 1.5, -0.0, "8", "", "\u0000", [], {}, [1, 2],
                       {"a": 1}, 1e308]


def _json_mutations(name: str, fields: list[str] | None = None) -> list[Mutation]:
    """Damage to one JSON file: encoding, nesting, constants, sizes; random values for its fields."""

    def raw(content: bytes):
        def mutate(path, rng):
            (path / name if path.is_dir() else path).write_bytes(content)
        return mutate

    def edit(path, rng):
        file = path / name
        data = json.loads(file.read_text())
        holder, keys = data, list(data)
        if isinstance(data.get("encoding"), dict):
            holder = data["encoding"]
            keys = list(holder)
        key = fields[int(rng.integers(len(fields)))] if fields and rng.random() < 0.7 else keys[
            int(rng.integers(len(keys)))]
        if rng.random() < 0.15:
            holder.pop(key, None)
        else:
            holder[key] = HOSTILE_JSON_VALUES[int(rng.integers(len(HOSTILE_JSON_VALUES)))]
        file.write_text(json.dumps(data))

    return [
        ("json not utf-8", raw(b'{"a": "\xff\xfe"}')),
        ("json 100k deep", raw(b"[" * 100_000)),
        ("json NaN", raw(b'{"generator_lr": NaN, "max_length": Infinity}')),
        ("json 5000 digits", raw(b'{"batch_size": 1' + b"0" * 5000 + b"}")),
        ("json not an object", raw(b"[1, 2, 3]")),
        ("json truncated", raw(b'{"format": "dg_tf-model-1", "enc')),
        *[(f"json field edit {i}", edit) for i in range(6)],
    ]


# ============================================================================ dataset folders


def _pickle_mutations() -> list[Mutation]:
    from dg_tf import Normalization, Output, OutputType

    specs = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE), Output(OutputType.DISCRETE, 3)]

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch pwned",))  # in the child's working folder

    def content(make):
        def mutate(path, rng):
            name = "data_feature_output.pkl" if rng.random() < 0.5 else "data_attribute_output.pkl"
            (path / name).write_bytes(make(path / name, rng))
        return mutate

    def nested(file, rng):
        value: list = []
        for _ in range(int(rng.integers(20, 60))):
            value = [value, value]
        return pickle.dumps([value], protocol=int(rng.integers(0, 6)))

    def replaced(old: bytes, new: bytes):
        return lambda file, rng: file.read_bytes().replace(old, new, 1)

    return [
        ("pickle evil global", content(lambda f, rng: pickle.dumps([Evil()], protocol=int(rng.integers(0, 6))))),
        ("pickle nested lists", content(nested)),
        ("pickle of protocol 2-5", content(lambda f, rng: pickle.dumps(specs, protocol=int(rng.integers(2, 6))))),
        ("pickle dim 5000 digits", content(replaced(b"I1\n", b"I1" + b"0" * 5000 + b"\n"))),
        ("pickle dim 10**6", content(replaced(b"I1\n", b"I1000000\n"))),
        ("pickle dim 0", content(replaced(b"I1\n", b"I0\n"))),
        ("pickle unknown enum", content(replaced(b"'ZERO_ONE'", b"'ZERO_TWO'"))),
        ("pickle empty list", content(lambda f, rng: b"(l.")),
        ("pickle opcode soup", content(lambda f, rng: b"\x80\x02" + rng.bytes(int(rng.integers(1, 60))))),
        ("pickle of a dict", content(lambda f, rng: pickle.dumps({"dim": 1}, protocol=int(rng.integers(0, 6))))),
    ]


def _npz_mutations() -> list[Mutation]:
    keys = ("data_feature", "data_attribute", "data_gen_flag")

    def arrays(path):
        with np.load(path / "data_train.npz") as npz:
            return {k: npz[k] for k in npz.files}

    def rewrite(change):
        def mutate(path, rng):
            data = arrays(path)
            change(data, rng)
            with open(path / "data_train.npz", "wb") as handle:
                (np.savez_compressed if rng.random() < 0.5 else np.savez)(handle, **data)
        return mutate

    def key(rng):
        return keys[int(rng.integers(3))]

    def drop(data, rng):
        del data[key(rng)]

    def dtype(data, rng):
        k = key(rng)
        data[k] = data[k].astype([np.complex64, np.int8, bool, "U3", np.float16][int(rng.integers(5))])

    def shape(data, rng):
        k = key(rng)
        data[k] = [data[k][:, None], data[k].reshape(-1), data[k][:0], data[k][:-1], data[k][:, :0],
                   np.zeros(())][int(rng.integers(6))]

    def poison(data, rng):
        k = key(rng)
        value = data[k].astype(np.float32).copy()
        value.reshape(-1)[int(rng.integers(value.size))] = [np.nan, np.inf, -np.inf, 2.0, -5.0, 0.5][
            int(rng.integers(6))]
        data[k] = value

    def extras(data, rng):
        data[["../../evil", "a.b", "ok_extra", "data_feature_max"][int(rng.integers(4))]] = rng.random(3)

    def fortran(data, rng):
        k = key(rng)
        data[k] = np.asfortranarray(data[k])

    def member(content_of):
        def mutate(path, rng):
            with zipfile.ZipFile(path / "data_train.npz", "a") as archive:
                archive.writestr(*content_of(rng))
        return mutate

    def header(shape_text):
        text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}".encode()
        text += b" " * (-(len(text) + 11) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text

    return [
        ("npz drop key", rewrite(drop)), ("npz dtype", rewrite(dtype)), ("npz shape", rewrite(shape)),
        ("npz poison value", rewrite(poison)), ("npz extra array", rewrite(extras)), ("npz fortran", rewrite(fortran)),
        ("npz member without .npy", member(lambda rng: ("notes", rng.bytes(20)))),
        ("npz 5000-digit shape", member(lambda rng: ("huge.npy", header("(1" + "0" * 5000 + ",)")))),
        ("npz shape beyond its bytes", member(lambda rng: ("big.npy", header("(1000000000000, 3)") + b"\0" * 8))),
        ("npz object array", member(lambda rng: ("obj.npy", _npy_bytes(np.array([{"a": 1}], dtype=object))))),
        ("npz duplicate member", member(lambda rng: ("data_gen_flag.npy", _npy_bytes(np.ones((2, 2)))))),
    ]


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _dataset_mutations() -> list[Mutation]:
    return [*_file_mutations(), *_pickle_mutations(), *_npz_mutations(),
            *_json_mutations("dg_config.json", ["batch_size", "sample_len", "epochs", "generator_lr"])]


# ============================================================================ tables


def _table(rng: np.random.Generator):
    import pandas as pd

    rows = []
    for i in range(6):
        for t in range(int(rng.integers(2, 5))):
            rows.append({"id": f"s{i}", "t": t, "site": ["paris", "lyon"][i % 2], "wired": bool(i % 3),
                         "x": float(rng.normal()), "n": int(rng.integers(0, 50))})
    return pd.DataFrame(rows)


HOSTILE_CELLS = ["", "nan", "inf", "-inf", "1e308", "-1e308", "yes", "3", "oops", "True", "1" + "0" * 400,
                 "x" * 5000, "\x00", '"', "s0", "2024-01-01", "-0", "1e-320"]


def _table_mutations() -> list[Mutation]:
    import pandas as pd

    def cell(path, rng):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for _ in range(int(rng.integers(1, 4))):
            column = frame.columns[int(rng.integers(len(frame.columns)))]
            frame.loc[int(rng.integers(len(frame))), column] = HOSTILE_CELLS[int(rng.integers(len(HOSTILE_CELLS)))]
        frame.to_csv(path, index=False)

    def header(path, rng):
        lines = path.read_text().splitlines()
        names = lines[0].split(",")
        names[int(rng.integers(len(names)))] = names[int(rng.integers(len(names)))] if rng.random() < 0.5 else ""
        path.write_text("\n".join([",".join(names), *lines[1:]]) + "\n")

    def rows(path, rng):
        lines = path.read_text().splitlines()
        body = lines[1:]
        choice = int(rng.integers(4))
        if choice == 0:
            body = body[: int(rng.integers(0, 3))]  # fewer than 2 series
        elif choice == 1:
            body.append(body[int(rng.integers(len(body)))])  # a duplicate (id, time)
        elif choice == 2:
            body.append(body[0] + ",extra")  # a longer row than the header
        else:
            body = [b.replace(",", ";") for b in body]
        path.write_text("\n".join([lines[0], *body]) + "\n")

    def outliers(path, rng):
        frame = pd.read_csv(path)
        frame.loc[0, "x"], frame.loc[1, "x"] = 1e308, -1e308
        frame.to_csv(path, index=False)

    def shuffle(path, rng):  # harmless: the same table in another row and column order
        frame = pd.read_csv(path)
        frame.sample(frac=1.0, random_state=int(rng.integers(1000)))[list(rng.permutation(frame.columns))].to_csv(
            path, index=False)

    return [*_file_mutations(), *[(f"cell {i}", cell) for i in range(5)], ("header", header), ("rows", rows),
            ("rows", rows), ("outliers", outliers), ("non-utf-8", lambda p, rng: p.write_bytes(
                p.read_bytes().replace(b"paris", b"par\xffis", 1))), ("shuffle", shuffle), ("shuffle", shuffle)]


# ============================================================================ run folders


def _run_mutations() -> list[Mutation]:
    def runtime(path, rng):  # harmless: a runtime setting and the JSON layout
        config = json.loads((path / "config.json").read_text())
        config.update(generate_batch_size=int(rng.integers(1, 64)), lstm_batch_splits=int(rng.integers(1, 5)))
        (path / "config.json").write_text(json.dumps(config, indent=int(rng.integers(0, 4))))

    return [
        ("runtime edit", runtime), ("runtime edit", runtime), ("runtime edit", runtime),
        *[(f"weights {name}", mutate) for name, mutate in _file_mutations("weights.*")],
        *_json_mutations("model.json", ["max_length", "sample_len", "feature_outputs", "attribute_outputs",
                                        "self_norm", "self_norm_eps"]),
        *_json_mutations("config.json", ["feature_lstm_units", "sample_len", "critic_hidden_units",
                                         "attribute_noise_dim", "num_packing", "use_aux_critic", "precision"]),
    ]


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
