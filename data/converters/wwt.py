"""Wikipedia Web Traffic (WWT) raw CSV -> DG triple (paper §5.1.1, appendix A, Table 7).

Raw input: ``train_1.csv`` of the Kaggle competition
"web-traffic-time-series-forecasting": a header ``Page,2015-07-01,...,2016-12-31``
and one row per page, a page name ``<article>_<domain>_<access>_<agent>``
(e.g. ``2NE1_zh.wikipedia.org_all-access_spider``; the article itself may
contain underscores) followed by its daily view counts; an empty cell is a
missing value.

Rules (paper line numbers refer to ``doppelganger_imc2020.txt``):

1. one sample per page, its daily views from 2015-07-01 to 2016-12-31:
   550 steps, every sample full length (§5.1.1 l. 236; appendix A l. 596);
2. metadata: Wikipedia domain, access type, agent (§5.1.1 l. 236; Table 7),
   parsed from the page name's last three ``_``-separated fields (split from
   the right, so underscores inside the article are kept);
3. pages with any missing value in the window are dropped ("After removing
   samples with missing data, 117k samples are left", appendix A l. 596);
4. feature: ``log(1 + views)`` min-max scaled to ``[-1, 1]`` with the global
   min/max (the released data, per the maintainer in original issue #27:
   "we first do x -> log(1 + x) ... normalize ... to [-1, 1] according to the
   global min=0 and max=18.02"); the log-space min/max are stored as
   ``data_feature_min`` / ``data_feature_max``;
5. attributes: one-hot, levels sorted (issue #27 lists them sorted: 9
   domains, 3 access types, 2 agents);
6. a uniform sample of 100k pages: 50,000 train + 50,000 test (appendix A
   l. 596 "we sample 100k samples"; appendix B l. 629 "50,000" training
   samples).

Memory: the CSV is streamed in chunks of ``chunk_rows`` rows; the kept
series are held as float32 ``[N, 550]`` (about 260 MB for the 117k complete
pages of the real file) and scaled in float64, so the peak is roughly 1 GB
plus the output arrays.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from data.converters.common import (
    OPTIONAL_FLOAT,
    TEXT,
    ConversionSummary,
    RawDataError,
    default_of,
    encode_attributes,
    fixed_length_splits,
    iter_csv,
    log_counts,
    min_max,
    read_header,
    run_cli,
    split_indices,
    write_output,
)
from dg_tf.data.specs import Normalization

__all__ = ["convert", "parse_page", "main", "ATTRIBUTES"]

logger = logging.getLogger(__name__)

#: Attribute names, in column order (Table 7).
ATTRIBUTES = ("domain", "access", "agent")
_PAGE = "Page"
_DROP_MISSING = "missing value in the window"


def parse_page(page: str) -> tuple[str, str, str, str] | None:
    """Split ``<article>_<domain>_<access>_<agent>`` from the right.

    Returns:
        ``(article, domain, access, agent)``, or ``None`` if the name has
        fewer than three ``_`` or an empty domain, access or agent.
    """
    parts = page.rsplit("_", 3)
    if len(parts) != 4 or not all(parts[1:]):
        return None
    return parts[0], parts[1], parts[2], parts[3]


def _window_columns(file: str, header: list[str], start_date: str, end_date: str) -> list[str]:
    """The header's date columns from ``start_date`` to ``end_date`` (inclusive)."""
    if not header or header[0] != _PAGE:
        got = header[0] if header else None
        raise RawDataError(file, got, 1, f"the first header column must be {_PAGE!r}")
    dates = pd.to_datetime(pd.Series(header[1:], dtype=str), format="%Y-%m-%d", errors="coerce")
    for i, (name, date) in enumerate(zip(header[1:], dates)):
        if pd.isna(date) or date.strftime("%Y-%m-%d") != name:
            raise RawDataError(file, name, 1, "header column is not a date YYYY-MM-DD")
        if i and (date - dates.iloc[i - 1]) != pd.Timedelta(days=1):
            raise RawDataError(file, name, 1, f"dates must be consecutive days; previous column is {header[i]!r}")
    if not len(dates):
        raise RawDataError(file, None, 1, "header has no date columns")
    first = header.index(start_date) if start_date in header else None
    last = header.index(end_date) if end_date in header else None
    if first is None or last is None or last < first:
        raise RawDataError(
            file, None, 1, f"header covers {header[1]}..{header[-1]}, not the window {start_date}..{end_date}"
        )
    return header[first : last + 1]


def convert(
    input: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    num_train: int | None = 50_000,
    num_test: int | None = 50_000,
    seed: int = 0,
    start_date: str = "2015-07-01",
    end_date: str = "2016-12-31",
    overwrite: bool = False,
    chunk_rows: int = 20_000,
) -> ConversionSummary:
    """Convert Kaggle ``train_1.csv`` into the DG triple in ``out``.

    Writes ``data_feature_output.pkl`` (one CONTINUOUS MINUSONE_ONE feature),
    ``data_attribute_output.pkl`` (DISCRETE domain, access, agent),
    ``data_train.npz`` / ``data_test.npz`` (``data_feature`` float32
    [N, 550, 1], ``data_attribute`` float32 [N, A], ``data_gen_flag`` all
    ones [N, 550], ``data_feature_min`` / ``data_feature_max`` float32 [1] in
    log1p space) and ``conversion.json``. See the module docstring for the rules.

    Args:
        input: the raw ``train_1.csv`` (or ``train_2.csv``; any file with the
            same layout whose dates cover the window).
        out: output folder; must be empty or absent unless ``overwrite``.
        num_train: pages sampled into ``data_train.npz`` (``None``: the rest).
        num_test: pages sampled into ``data_test.npz`` (``None``: the rest).
        seed: seed of the uniform sample.
        start_date: first day of the window (a header column).
        end_date: last day of the window, inclusive.
        overwrite: replace the files of a non-empty ``out``.
        chunk_rows: CSV rows read at a time.

    Returns:
        The :class:`~data.converters.common.ConversionSummary` (also written
        as ``conversion.json``).

    Raises:
        RawDataError: (a DataFormatError) a wrong header, a malformed page
            name, a non-numeric, infinite or negative count, or no page
            complete in the window; names the file, line and column. Nothing
            is written.
        ConfigError: the counts exceed the kept pages, or ``out`` is not empty.
    """
    file = os.fspath(input)
    window = _window_columns(file, read_header(file), start_date, end_date)
    columns = {_PAGE: TEXT, **{day: OPTIONAL_FLOAT for day in window}}
    logged: list[np.ndarray] = []  # float32 [n, L] log1p(views) of complete pages
    names: list[tuple[str, str, str]] = []
    total = 0
    for line, chunk in iter_csv(file, columns, chunk_rows=chunk_rows):
        views = chunk[window].to_numpy(dtype=np.float64)  # [n, L], NaN = missing
        negative = views < 0
        if negative.any():
            row, col = np.unravel_index(int(np.argmax(negative)), negative.shape)
            raise RawDataError(file, window[col], line + int(row), f"page views must be >= 0, got {views[row, col]:g}")
        pages = chunk[_PAGE].astype(str).tolist()
        complete = ~np.isnan(views).any(axis=1)
        for row, page in enumerate(pages):
            parsed = parse_page(page)
            if parsed is None:
                raise RawDataError(
                    file, _PAGE, line + row, f"page name {page!r} must end in _<domain>_<access>_<agent>"
                )
            if complete[row]:
                names.append(parsed[1:])
        logged.append(np.log1p(views[complete]).astype(np.float32))
        total += len(pages)
    kept = len(names)
    dropped = {_DROP_MISSING: total - kept}
    log_counts("wwt", total, kept, dropped)
    if kept == 0:
        raise RawDataError(file, None, None, f"no page has a value on every day of {start_date}..{end_date}")

    length = len(window)
    scaled, low, high = min_max(np.concatenate(logged).reshape(-1, 1), Normalization.MINUSONE_ONE)
    features = scaled.astype(np.float32).reshape(kept, length, 1)
    del scaled, logged
    levels, attributes = encode_attributes({a: [n[j] for n in names] for j, a in enumerate(ATTRIBUTES)})
    extras = {"data_feature_min": low.astype(np.float32), "data_feature_max": high.astype(np.float32)}
    train, test = split_indices(kept, num_train, num_test, seed)
    splits = fixed_length_splits(features, attributes, Normalization.MINUSONE_ONE, levels, extras,
                                 {"train": train, "test": test})
    summary = ConversionSummary(
        dataset="wwt",
        total=total,
        kept=kept,
        dropped=dropped,
        num_train=len(train),
        num_test=len(test),
        levels=levels,
        feature_names=["page views"],
        feature_min=[float(low[0])],
        feature_max=[float(high[0])],
        transform="feature = 2 * (log(1 + views) - min) / (max - min) - 1; min/max are log(1 + views) "
        "over every kept page (data_feature_min / data_feature_max)",
    )
    write_output(out, splits, summary, overwrite=overwrite)
    return summary


def _add_arguments(parser) -> None:
    parser.add_argument("--input", type=Path, required=True, help="Kaggle web-traffic train_1.csv")
    parser.add_argument("--start-date", default=default_of(convert, "start_date"), help="first day [%(default)s]")
    parser.add_argument(
        "--end-date", default=default_of(convert, "end_date"), help="last day, inclusive [%(default)s]"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m data.converters.wwt --input train_1.csv --out DIR``; returns the exit status."""
    return run_cli(
        "Convert the Wikipedia Web Traffic train_1.csv into the DoppelGANger triple (paper appendix A).",
        _add_arguments,
        convert,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
