"""Tests for dg_tf.data.loading and dg_tf.fileio: the original on-disk format."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dg_tf.data import (
    Dataset,
    Normalization,
    Output,
    OutputType,
    gen_flag_output,
    load_dataset,
    load_npz,
    load_outputs,
    save_dataset,
    save_npz,
    save_outputs,
)
from dg_tf.data.loading import load_extras
from dg_tf.datasets import bundled_dataset
from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.fileio import atomic_write

from conftest import require_data

FCC = bundled_dataset("fcc_mba")


@pytest.fixture
def fcc_present() -> None:
    require_data(FCC)


needs_fcc = pytest.mark.usefixtures("fcc_present")

CONT01 = Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)
FCC_FEATURE_OUTPUTS = [CONT01, CONT01]
FCC_ATTRIBUTE_OUTPUTS = [Output(OutputType.DISCRETE, d) for d in (15, 5, 53)]

# The original gan/output.py (fjxmlzn/DoppelGANger), for reading our pickles with plain pickle.
ORIGINAL_OUTPUT_MODULE = textwrap.dedent(
    """
    from enum import Enum


    class OutputType(Enum):
        CONTINUOUS = "CONTINUOUS"
        DISCRETE = "DISCRETE"


    class Normalization(Enum):
        ZERO_ONE = "ZERO_ONE"
        MINUSONE_ONE = "MINUSONE_ONE"


    class Output(object):
        def __init__(self, type_, dim, normalization=None, is_gen_flag=False):
            self.type_ = type_
            self.dim = dim
            self.normalization = normalization
            self.is_gen_flag = is_gen_flag

            if type_ == OutputType.CONTINUOUS and normalization is None:
                raise Exception("normalization must be set for continuous output")
    """
)


def make_dataset(seed: int = 0) -> Dataset:
    """A valid tiny variable-length dataset (N=3, L=4) with one extra array."""
    rng = np.random.default_rng(seed)
    gen_flags = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], np.float32)
    features = np.zeros((3, 4, 4), np.float32)
    features[:, :, 0] = rng.uniform(-1, 1, (3, 4))
    features[np.arange(3)[:, None], np.arange(4)[None, :], 1 + rng.integers(0, 3, (3, 4))] = 1
    features *= gen_flags[:, :, None]
    attributes = np.zeros((3, 2), np.float32)
    attributes[np.arange(3), [0, 1, 1]] = 1
    return Dataset(
        features=features,
        attributes=attributes,
        gen_flags=gen_flags,
        feature_outputs=[Output(OutputType.CONTINUOUS, 1, Normalization.MINUSONE_ONE), Output(OutputType.DISCRETE, 3)],
        attribute_outputs=[Output(OutputType.DISCRETE, 2)],
        extras={"data_feature_min": np.array([-3.5], np.float64), "names": np.array(["a", "b"])},
    )


def folder_snapshot(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def load_error(path: Path) -> DataFormatError:
    with pytest.raises(DataFormatError) as info:
        load_outputs(path)
    assert info.value.file == str(path)
    return info.value


# ------------------------------------------------------------------ the real FCC MBA files


@needs_fcc
def test_fcc_pickles_load_to_the_paper_specs():
    features = load_outputs(FCC / "data_feature_output.pkl")
    attributes = load_outputs(FCC / "data_attribute_output.pkl")
    assert features == FCC_FEATURE_OUTPUTS
    assert attributes == FCC_ATTRIBUTE_OUTPUTS
    assert [o.dim for o in attributes] == [15, 5, 53]
    assert all(type(o) is Output and o.problem() is None for o in features + attributes)
    assert features[0].normalization is Normalization.ZERO_ONE
    assert attributes[0].normalization is None and attributes[0].is_gen_flag is False


@needs_fcc
def test_fcc_load_dataset_shapes_dtypes_extras():
    train = load_dataset(FCC)
    assert train.features.shape == (600, 56, 2) and train.features.dtype == np.float32
    assert train.attributes.shape == (600, 73) and train.attributes.dtype == np.float32
    assert train.gen_flags.shape == (600, 56) and train.gen_flags.dtype == np.float32  # float64 on disk
    assert set(train.extras) == {"data_feature_min", "data_feature_max"}
    assert train.extras["data_feature_min"].shape == (2,)
    assert train.extras["data_feature_min"][0] < train.extras["data_feature_max"][0]
    assert np.all(train.lengths == 56)
    assert np.all(train.attributes.sum(axis=1) == 3)  # three one-hot attributes
    test = load_dataset(str(FCC), split="test")
    assert test.features.shape == (139, 56, 2)


@needs_fcc
def test_fcc_specs_written_byte_for_byte_like_the_original(tmp_path):
    for name in ("data_feature_output.pkl", "data_attribute_output.pkl"):
        original = (FCC / name).read_bytes()
        save_outputs(tmp_path / name, load_outputs(FCC / name))
        written = (tmp_path / name).read_bytes()
        assert written.startswith(b"(lp0\nccopy_reg\n_reconstructor\n")
        assert load_outputs(tmp_path / name) == load_outputs(FCC / name)
        assert written == original


# ------------------------------------------------------------------ hostile and broken pickles


class _Evil:
    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("1+1",))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_os_system_pickle_is_refused_before_it_runs(tmp_path, protocol):
    pwned = tmp_path / "pwned"
    bad = tmp_path / "data_feature_output.pkl"
    bad.write_bytes(pickle.dumps([_Evil(str(pwned))], protocol=protocol))
    err = load_error(bad)
    assert err.array == "pickle" and err.index is None
    assert "refuses global" in err.rule and ".system'" in err.rule
    assert "output.Output" in err.rule
    assert not pwned.exists()


@pytest.mark.parametrize("protocol, module", [(0, "__builtin__"), (2, "__builtin__"), (4, "builtins")])
def test_builtins_eval_pickle_is_refused(tmp_path, protocol, module):
    # Protocols < 3 write Python-2 names (fix_imports); both spellings are refused.
    bad = tmp_path / "x.pkl"
    bad.write_bytes(pickle.dumps([_EvilEval()], protocol=protocol))
    err = load_error(bad)
    assert f"refuses global '{module}.eval'" in err.rule


def test_list_of_int_is_refused(tmp_path):
    bad = tmp_path / "x.pkl"
    bad.write_bytes(pickle.dumps([1], protocol=0))
    err = load_error(bad)
    assert (err.array, err.index) == ("pickle", 0)
    assert "must be an output.Output, got int" in err.rule


def test_non_list_is_refused(tmp_path):
    bad = tmp_path / "x.pkl"
    bad.write_bytes(pickle.dumps({"dim": 1}, protocol=0))
    err = load_error(bad)
    assert err.index is None and "list" in err.rule


def test_reconstructor_with_other_classes_is_refused(tmp_path):
    bad = tmp_path / "x.pkl"
    bad.write_bytes(b"(lccopy_reg\n_reconstructor\n(c__builtin__\nobject\nc__builtin__\nobject\nNtRa.")
    err = load_error(bad)
    assert "_reconstructor" in err.rule


def test_build_cannot_mutate_the_real_enum_members(tmp_path):
    # OutputType('CONTINUOUS') followed by BUILD {'_value_': 'DISCRETE'}
    bad = tmp_path / "x.pkl"
    bad.write_bytes(b"(lcoutput\nOutputType\n(S'CONTINUOUS'\ntR(dS'_value_'\nS'DISCRETE'\nsba.")
    err = load_error(bad)
    assert err.index == 0
    assert OutputType.CONTINUOUS.value == "CONTINUOUS"
    assert OutputType("CONTINUOUS") is OutputType.CONTINUOUS


def test_build_cannot_patch_the_output_class(tmp_path):
    # output.Output followed by BUILD (None, {'problem': None}): setattr on the class.
    bad = tmp_path / "x.pkl"
    bad.write_bytes(b"(lcoutput\nOutput\n(N(dS'problem'\nNstba.")
    err = load_error(bad)
    assert err.index == 0 and "got class output.Output" in err.rule
    assert callable(Output.problem)
    assert Output(OutputType.DISCRETE, 2).problem() is None


@needs_fcc
@pytest.mark.parametrize(
    "source, old, new, index, message",
    [
        ("data_feature_output.pkl", b"'ZERO_ONE'", b"'ZERO_TWO'", 0, "normalization='ZERO_TWO'"),  # unknown enum
        ("data_attribute_output.pkl", b"I5\n", b"I0\n", 1, "dim=0"),  # invalid value
        ("data_attribute_output.pkl", b"(dp6\n", b"(dp6\nS'evil'\nI1\ns", 0, "'evil'"),  # extra state key
    ],
)
def test_corrupted_spec_is_refused_with_the_index(tmp_path, source, old, new, index, message):
    bad = tmp_path / "x.pkl"
    bad.write_bytes((FCC / source).read_bytes().replace(old, new, 1))
    err = load_error(bad)
    assert err.index == index and message in err.rule


@needs_fcc
def test_gan_output_module_name_is_accepted(tmp_path):
    renamed = tmp_path / "x.pkl"
    renamed.write_bytes((FCC / "data_attribute_output.pkl").read_bytes().replace(b"coutput\n", b"cgan.output\n"))
    assert load_outputs(renamed) == FCC_ATTRIBUTE_OUTPUTS


def test_truncated_and_missing_pickles(tmp_path):
    truncated = tmp_path / "t.pkl"
    truncated.write_bytes(b"(lp0\nccopy_reg\n_reconstructor\n")
    assert "cannot be unpickled" in load_error(truncated).rule
    assert load_error(tmp_path / "absent.pkl").rule == "missing file"


# ------------------------------------------------------------------ writing pickles


def test_save_load_outputs_round_trip(tmp_path):
    outputs = [
        Output(OutputType.CONTINUOUS, 3, Normalization.MINUSONE_ONE),
        Output(OutputType.DISCRETE, 7),
        Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
        Output(OutputType.CONTINUOUS, 2, Normalization.MINUSONE_ONE),
        gen_flag_output(),
    ]
    save_outputs(tmp_path / "o.pkl", outputs)
    assert load_outputs(tmp_path / "o.pkl") == outputs
    save_outputs(tmp_path / "empty.pkl", [])
    assert load_outputs(tmp_path / "empty.pkl") == []


def test_save_outputs_refuses_non_outputs(tmp_path):
    with pytest.raises(DataFormatError) as info:
        save_outputs(tmp_path / "o.pkl", [Output(OutputType.DISCRETE, 2), "x"])
    assert info.value.index == 1
    assert list(tmp_path.iterdir()) == []


def test_written_pickle_reads_with_plain_pickle_and_the_original_module(tmp_path):
    outputs = [
        Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
        Output(OutputType.CONTINUOUS, 4, Normalization.MINUSONE_ONE),
        Output(OutputType.DISCRETE, 15),
        gen_flag_output(),
    ]
    module_dir = tmp_path / "original"
    module_dir.mkdir()
    (module_dir / "output.py").write_text(ORIGINAL_OUTPUT_MODULE)
    pkl = tmp_path / "data_feature_output.pkl"
    save_outputs(pkl, outputs)
    script = textwrap.dedent(
        """
        import json, pickle, sys
        import output
        with open(sys.argv[1], "rb") as f:
            objs = pickle.load(f)
        print(json.dumps([
            [type(o).__module__, type(o).__name__, isinstance(o.type_, output.OutputType), o.type_.value, o.dim,
             None if o.normalization is None else o.normalization.value, o.is_gen_flag]
            for o in objs
        ]))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(module_dir)
    result = subprocess.run(
        [sys.executable, "-c", script, str(pkl)], cwd=module_dir, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        ["output", "Output", True, "CONTINUOUS", 1, "ZERO_ONE", False],
        ["output", "Output", True, "CONTINUOUS", 4, "MINUSONE_ONE", False],
        ["output", "Output", True, "DISCRETE", 15, None, False],
        ["output", "Output", True, "DISCRETE", 2, None, True],
    ]


# ------------------------------------------------------------------ npz and folders


def test_save_load_dataset_round_trip(tmp_path):
    ds = make_dataset()
    target = tmp_path / "new" / "folder"
    save_dataset(target, ds, split="test")
    assert sorted(p.name for p in target.iterdir()) == [
        "data_attribute_output.pkl",
        "data_feature_output.pkl",
        "data_test.npz",
    ]
    back = load_dataset(target, split="test")
    np.testing.assert_array_equal(back.features, ds.features)
    np.testing.assert_array_equal(back.attributes, ds.attributes)
    np.testing.assert_array_equal(back.gen_flags, ds.gen_flags)
    assert back.feature_outputs == ds.feature_outputs
    assert back.attribute_outputs == ds.attribute_outputs
    assert set(back.extras) == {"data_feature_min", "names"}
    assert back.extras["data_feature_min"].dtype == np.float64
    np.testing.assert_array_equal(back.extras["data_feature_min"], [-3.5])
    assert list(back.extras["names"]) == ["a", "b"]
    with np.load(target / "data_test.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"data_feature", "data_attribute", "data_gen_flag", "data_feature_min", "names"}


def test_save_npz_load_npz_round_trip(tmp_path):
    ds = make_dataset()
    save_npz(tmp_path / "d.npz", ds)
    back = load_npz(tmp_path / "d.npz", ds.feature_outputs, ds.attribute_outputs)
    np.testing.assert_array_equal(back.features, ds.features)
    assert back.gen_flags.dtype == np.float32


def test_save_dataset_invalid_writes_nothing(tmp_path):
    ds = make_dataset()
    ds.features[1, 3, 0] = 0.5  # non-zero after the series ended
    target = tmp_path / "out"
    with pytest.raises(DataFormatError) as info:
        save_dataset(target, ds)
    assert info.value.file == str(target / "data_train.npz")
    assert (info.value.array, info.value.index) == ("data_feature", (1, 3, 0))
    assert not target.exists()


def test_save_dataset_invalid_leaves_existing_files_byte_identical(tmp_path):
    target = tmp_path / "out"
    save_dataset(target, make_dataset(seed=1))
    before = folder_snapshot(target)
    bad = make_dataset(seed=2)
    bad.attributes[0, :] = [1, 1]
    with pytest.raises(DataFormatError):
        save_dataset(target, bad)
    assert folder_snapshot(target) == before


def test_save_npz_invalid_writes_nothing(tmp_path):
    ds = make_dataset()
    ds.gen_flags[0, 0] = 0
    with pytest.raises(DataFormatError):
        save_npz(tmp_path / "d.npz", ds)
    assert list(tmp_path.iterdir()) == []


def test_reserved_extra_name_is_refused(tmp_path):
    ds = make_dataset()
    ds.extras["file"] = np.zeros(2)
    with pytest.raises(DataFormatError) as info:
        save_dataset(tmp_path / "out", ds)
    assert info.value.array == "file" and "reserved" in info.value.rule
    assert not (tmp_path / "out").exists()


def test_load_npz_missing_key(tmp_path):
    ds = make_dataset()
    np.savez(tmp_path / "d.npz", data_feature=ds.features, data_attribute=ds.attributes)
    with pytest.raises(DataFormatError) as info:
        load_npz(tmp_path / "d.npz", ds.feature_outputs, ds.attribute_outputs)
    err = info.value
    assert (err.file, err.array, err.index) == (str(tmp_path / "d.npz"), "data_gen_flag", None)
    assert "missing key" in err.rule


def test_load_npz_validates_unless_told_not_to(tmp_path):
    ds = make_dataset()
    features = ds.features.copy()
    features[0, 0, 0] = 5.0
    np.savez(tmp_path / "d.npz", data_feature=features, data_attribute=ds.attributes, data_gen_flag=ds.gen_flags)
    with pytest.raises(DataFormatError) as info:
        load_npz(tmp_path / "d.npz", ds.feature_outputs, ds.attribute_outputs)
    assert info.value.file == str(tmp_path / "d.npz") and info.value.index == (0, 0, 0)
    raw = load_npz(tmp_path / "d.npz", ds.feature_outputs, ds.attribute_outputs, validate=False)
    assert raw.features[0, 0, 0] == 5.0


def test_load_npz_refuses_object_arrays(tmp_path):
    ds = make_dataset()
    np.savez(
        tmp_path / "d.npz",
        data_feature=ds.features,
        data_attribute=ds.attributes,
        data_gen_flag=ds.gen_flags,
        evil=np.array([{"a": 1}], dtype=object),
    )
    with pytest.raises(DataFormatError) as info:
        load_npz(tmp_path / "d.npz", ds.feature_outputs, ds.attribute_outputs)
    assert info.value.array == "evil" and "pickle" in info.value.rule


def test_load_dataset_missing_npz(tmp_path):
    ds = make_dataset()
    save_dataset(tmp_path, ds)
    with pytest.raises(DataFormatError) as info:
        load_dataset(tmp_path, split="test")
    assert info.value.file == str(tmp_path / "data_test.npz")
    assert info.value.rule == "missing file"


def test_load_dataset_missing_pickle(tmp_path):
    with pytest.raises(DataFormatError) as info:
        load_dataset(tmp_path)
    assert info.value.file == str(tmp_path / "data_feature_output.pkl")
    assert "missing file" in str(info.value)


# ------------------------------------------------------------------ atomic_write


def test_atomic_write_leaves_target_untouched_on_error(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old content")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write(b"new, half written")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary file left


def test_atomic_write_absent_target_stays_absent_on_error(tmp_path):
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "new.txt", "w") as handle:
            handle.write("x")
            raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_and_uses_hidden_temp_name(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with atomic_write(target, "w") as handle:
        (temp,) = [p for p in tmp_path.iterdir() if p.name != "f.txt"]
        assert temp.name.startswith(".") and temp.name.endswith(".tmp")
        handle.write("new é")
        assert target.read_text() == "old"  # not replaced before the end
    assert target.read_text(encoding="utf-8") == "new é"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# ------------------------------------------------------------------ protocols, bounds, hostile files


def test_spec_pickles_of_every_protocol_load(tmp_path):
    """The original module pickled with protocols 0 to 5 (Python 3), and dg_tf's own specs, all load."""
    module_dir = tmp_path / "original"
    module_dir.mkdir()
    (module_dir / "output.py").write_text(ORIGINAL_OUTPUT_MODULE)
    script = textwrap.dedent(
        """
        import pickle, sys
        from output import Normalization, Output, OutputType
        specs = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE), Output(OutputType.DISCRETE, 15),
                 Output(OutputType.CONTINUOUS, 4, Normalization.MINUSONE_ONE), Output(OutputType.DISCRETE, 2,
                 is_gen_flag=True)]
        for protocol in range(6):
            with open(f"{sys.argv[1]}/p{protocol}.pkl", "wb") as f:
                pickle.dump(specs, f, protocol=protocol)
        """
    )
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONPATH": str(module_dir)}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=module_dir, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    expected = [CONT01, Output(OutputType.DISCRETE, 15), Output(OutputType.CONTINUOUS, 4, Normalization.MINUSONE_ONE),
                gen_flag_output()]
    for protocol in range(6):
        assert load_outputs(tmp_path / f"p{protocol}.pkl") == expected, protocol
        ours = tmp_path / f"ours{protocol}.pkl"
        ours.write_bytes(pickle.dumps(expected, protocol=protocol))  # module dg_tf.data.specs
        assert load_outputs(ours) == expected, protocol


def test_newobj_cannot_build_other_classes_or_patch_ours(tmp_path):
    # protocol 2: NEWOBJ on __builtin__.object is refused (only output.Output may be created) ...
    bad = tmp_path / "x.pkl"
    bad.write_bytes(b"\x80\x02]q\x00c__builtin__\nobject\n)\x81a.")
    assert load_error(bad).rule == "cannot be unpickled: UnpicklingError: NEWOBJ class argument must be a type, not _Ref"
    # ... and a BUILD on the output.Output class changes only this load's throwaway class
    bad.write_bytes(b"\x80\x02]q\x00coutput\nOutput\nN}X\x07\x00\x00\x00problemNs\x86ba.")
    assert "got class output.Output" in load_error(bad).rule
    assert Output(OutputType.DISCRETE, 2).problem() is None


def test_pickle_whose_repr_would_explode_is_refused_with_a_short_message(tmp_path):
    nested: list = []
    for _ in range(40):  # 2**40 leaves when printed; a few hundred bytes pickled
        nested = [nested, nested]
    bad = tmp_path / "x.pkl"
    bad.write_bytes(pickle.dumps([nested], protocol=0))
    assert bad.stat().st_size < 1000
    err = load_error(bad)
    assert err.index == 0 and "must be an output.Output, got list [[[" in err.rule and len(str(err)) < 300


def test_huge_and_too_wide_dims_are_refused(tmp_path):
    good = tmp_path / "good.pkl"
    save_outputs(good, [Output(OutputType.DISCRETE, 2)])
    huge = tmp_path / "huge.pkl"
    huge.write_bytes(good.read_bytes().replace(b"I2\n", b"I1" + b"0" * 5000 + b"\n"))
    err = load_error(huge)
    assert "cannot be unpickled" in err.rule and len(str(err)) < 400
    wide = tmp_path / "wide.pkl"
    wide.write_bytes(good.read_bytes().replace(b"I2\n", b"I1000001\n"))
    err = load_error(wide)
    assert err.index == 0 and "1000001 columns of one output spec is over the limit of 100000" in err.rule
    assert "DG_TF_MAX_OUTPUT_DIM" in err.rule


def test_special_files_and_oversize_pickles_are_refused_without_reading(tmp_path, monkeypatch):
    zero = tmp_path / "zero.pkl"
    zero.symlink_to("/dev/zero")
    assert load_error(zero).rule == "is a character device, not a regular file"
    fifo = tmp_path / "fifo.pkl"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    assert load_error(fifo).rule == "is a FIFO (named pipe), not a regular file"
    assert load_error(tmp_path).rule == "is a folder, not a regular file"
    big = tmp_path / "big.pkl"
    save_outputs(big, [Output(OutputType.DISCRETE, 2)] * 10)
    monkeypatch.setenv("DG_TF_MAX_PICKLE_BYTES", "100")
    assert "over the limit of 100 (raise DG_TF_MAX_PICKLE_BYTES" in load_error(big).rule
    monkeypatch.setenv("DG_TF_MAX_PICKLE_BYTES", "lots")
    with pytest.raises(ConfigError, match="DG_TF_MAX_PICKLE_BYTES='lots' must be a positive integer"):
        load_outputs(big)


def _npz_error(path: Path) -> DataFormatError:
    ds = make_dataset()
    with pytest.raises(DataFormatError) as info:
        load_npz(path, ds.feature_outputs, ds.attribute_outputs)
    assert info.value.file == str(path) and "\n" not in str(info.value)
    return info.value


def _npy(shape_text: str, payload: bytes = b"") -> bytes:
    """A version-1.0 .npy member declaring ``shape_text`` (any text), followed by ``payload``."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}".encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + payload


def test_npz_members_are_checked_before_any_array_is_read(tmp_path, monkeypatch):
    ds = make_dataset()
    arrays = dict(data_feature=ds.features, data_attribute=ds.attributes, data_gen_flag=ds.gen_flags)
    good = tmp_path / "good.npz"
    np.savez(good, **arrays)

    def variant(name, member, content):
        path = tmp_path / name
        shutil.copy(good, path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(member, content)
        return path

    err = _npz_error(variant("raw.npz", "notes", b"no .npy suffix"))
    assert err.array == "notes" and "zip member is not an .npy array" in err.rule
    err = _npz_error(variant("digits.npz", "big.npy", _npy("(1" + "0" * 5000 + ",)")))
    assert err.array == "big" and "unreadable .npy header" in err.rule and len(str(err)) < 500
    err = _npz_error(variant("short.npz", "big.npy", _npy("(1000000000000, 3)", b"\0" * 64)))
    assert err.array == "big" and "array data is truncated" in err.rule and "12000000000000 bytes" in err.rule
    err = _npz_error(variant("negative.npz", "neg.npy", _npy("(-5,)")))
    assert err.array == "neg" and "negative dimension" in err.rule

    bomb = tmp_path / "bomb.npz"  # 4 MB of zeros in a few kB: the extra array is bounded like the rest
    np.savez_compressed(bomb, **arrays, extra=np.zeros(1 << 20, np.float32))
    assert bomb.stat().st_size < 20_000
    monkeypatch.setenv("DG_TF_MAX_NPZ_BYTES", str(1 << 20))
    err = _npz_error(bomb)
    assert err.array == "file" and "bytes of arrays to read from an .npz file is over the limit" in err.rule
    monkeypatch.delenv("DG_TF_MAX_NPZ_BYTES")
    monkeypatch.setenv("DG_TF_MEMORY_BYTES", "100000")
    err = _npz_error(bomb)
    assert "need 4.0 MiB of memory and 97.7 KiB is available" in err.rule
    monkeypatch.delenv("DG_TF_MEMORY_BYTES")
    assert load_npz(bomb, ds.feature_outputs, ds.attribute_outputs).extras["extra"].shape == (1 << 20,)


def test_extra_array_names_must_be_identifiers(tmp_path):
    ds = make_dataset()
    for name in ("../../evil", "a.b", "", "1x"):
        ds.extras = {name: np.zeros(2)}
        with pytest.raises(DataFormatError, match="extra array name is reserved or not an identifier"):
            save_npz(tmp_path / "d.npz", ds)
    assert not (tmp_path / "d.npz").exists()
    np.savez(tmp_path / "hostile.npz", data_feature=ds.features, data_attribute=ds.attributes,
             data_gen_flag=ds.gen_flags, data_feature_min=np.array([-3.5]), **{"../../evil": np.ones(3)})
    assert set(load_npz(tmp_path / "hostile.npz", ds.feature_outputs, ds.attribute_outputs).extras) == {
        "data_feature_min", "../../evil"}  # read (they are the user's), never written back as they are
    assert list(load_extras(tmp_path / "hostile.npz", ["data_feature_min"])) == ["data_feature_min"]
    with pytest.raises(DataFormatError, match="no such array in the file") as info:
        load_extras(tmp_path / "hostile.npz", ["data_feature_max"])
    assert info.value.array == "data_feature_max"
    with pytest.raises(DataFormatError, match="not an identifier"):
        load_extras(tmp_path / "hostile.npz", ["../../evil"])
