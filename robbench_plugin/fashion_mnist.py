"""Fashion-MNIST's four standard IDX files: where they are found, and checking them.

Fashion-MNIST (Xiao et al., 2017): 60000 training and 10000 test images of 28x28 grey pixels,
10 classes. The files are looked for, in this order, in

1. the folder the user names (``--data-dir`` / ``data_root=``),
2. ``<ROBBENCH_HOME>/fashion-mnist`` (where ``robbench download fashion-mnist`` puts them),
3. Debian's ``dataset-fashion-mnist`` folder, ``/usr/share/datasets/fashion-mnist``.

Each file may be gzipped (``.gz``, as published) or not. The published ``.gz`` files are
recompressed by some distributors (Debian's differ byte-wise from the originals), so files are
checked by the sha256 of their *uncompressed* IDX bytes, which every copy shares.
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
import urllib.error
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .costs import DATASET_SPECS
from .errors import DataFileError
from .paths import home

NAME = "fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# The official download location (Zalando Research's release).
OFFICIAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# file -> (sha256 of the uncompressed IDX bytes, uncompressed size in bytes)
FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
    "train-labels-idx1-ubyte": ("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
    "t10k-images-idx3-ubyte": ("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
    "t10k-labels-idx1-ubyte": ("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
}


def default_dir() -> Path:
    """``<ROBBENCH_HOME>/fashion-mnist``: where the download puts the files."""
    return home() / NAME


def file_in(folder: Path, stem: str) -> Path | None:
    """The file ``stem`` (or ``stem.gz``) in ``folder``, or None."""
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def has_files(folder: Path) -> bool:
    """Whether ``folder`` holds all four files (plain or gzipped)."""
    return all(file_in(folder, stem) is not None for stem in FILES)


def find_dir(data_dir: str | Path | None = None) -> Path:
    """The folder holding the four files: ``data_dir`` when given (it must hold them), else the
    first of ROBBENCH_HOME's and Debian's folders that does; a :class:`DataFileError` naming the
    ways to get them otherwise."""
    how = (f"pass --data-dir DIR (data_dir=) naming a folder with the four files, run `robbench download "
           f"{NAME}` (into {default_dir()}), or install Debian's dataset-fashion-mnist")
    if data_dir is not None:
        folder = Path(data_dir)
        missing = [stem for stem in FILES if file_in(folder, stem) is None]
        if missing:
            raise DataFileError(f"{NAME}: {folder} lacks {', '.join(s + '[.gz]' for s in missing)}; {how}")
        return folder
    for folder in (default_dir(), DEBIAN_DIR):
        if has_files(folder):
            return folder
    raise DataFileError(f"{NAME} data not found in {default_dir()} or {DEBIAN_DIR}; {how}")


def uncompressed_sha256(path: Path) -> str:
    """sha256 of the IDX bytes in ``path`` (gunzipped first for ``.gz``)."""
    h = hashlib.sha256()
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except (OSError, EOFError) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from exc
    return h.hexdigest()


def verify(folder: Path) -> None:
    """Check every file of ``folder`` against :data:`FILES`; a :class:`DataFileError` names the first
    file that differs (a truncated, altered or foreign copy)."""
    for stem, (sha, _) in FILES.items():
        path = file_in(folder, stem)
        if path is None:
            raise DataFileError(f"{NAME}: missing {stem}[.gz] in {folder}")
        if uncompressed_sha256(path) != sha:
            raise DataFileError(f"{NAME}: {path} is not the published {stem} (sha256 of its IDX bytes differs): "
                                "a truncated, altered or foreign copy")


STAGING = ".incoming"  # folder inside the destination where files are fetched and checked


def download(dest: str | Path | None = None, source: str | None = None,
             files: dict[str, tuple[str, int]] | None = None,
             progress: Callable[[str, int, int | None], None] | None = None) -> dict[str, str]:
    """Place the four files in ``dest`` (default ``<ROBBENCH_HOME>/fashion-mnist``) and return
    ``{file name: sha256 of its IDX bytes}``.

    ``source``: the official location (default, :data:`OFFICIAL_URL`), a mirror's base URL
    (http, https or file) serving ``<name>.gz``, or a local folder holding the files (plain or
    gzipped, e.g. Debian's). Each file is fetched into ``<dest>/.incoming`` (a broken transfer
    resumes from its ``.part`` on the next call), checked against ``files`` (default
    :data:`FILES`: the published checksums), and only then moved into ``dest``; a file already in
    ``dest`` that checks out is kept. A file that does not check out never lands."""
    from .download import fetch_url

    files = FILES if files is None else files
    dest = Path(dest) if dest is not None else default_dir()
    if dest.exists() and not dest.is_dir():
        raise DataFileError(f"--dest {dest} exists and is not a directory")
    local = source is not None and "://" not in source
    if local and not Path(source).is_dir():
        raise DataFileError(f"--from {source!r}: no such folder (give a folder with the four files or a mirror URL)")
    base = (source or OFFICIAL_URL) if not local else None
    if base is not None and not base.endswith("/"):
        base += "/"
    staging = dest / STAGING
    sums = {}
    for stem, (sha, _) in files.items():
        have = file_in(dest, stem)
        if have is not None and uncompressed_sha256(have) == sha:
            sums[stem] = sha
            continue
        staging.mkdir(parents=True, exist_ok=True)
        if local:
            found = file_in(Path(source), stem)
            if found is None:
                raise DataFileError(f"--from {source!r} lacks {stem}[.gz]")
            fetched = staging / found.name
            shutil.copyfile(found, fetched)
        else:
            fetched = staging / f"{stem}.gz"
            url = urllib.parse.urljoin(base, f"{stem}.gz")
            try:
                fetch_url(url, fetched, progress)
            except (urllib.error.URLError, OSError) as exc:
                raise DataFileError(f"cannot download {url} ({exc}); run again to resume, or pass --from with a "
                                    f"mirror or a folder holding the files, or --data-dir to use files you have") \
                    from exc
        got = uncompressed_sha256(fetched)
        if got != sha:
            fetched.unlink()
            raise DataFileError(f"{stem} from {source or OFFICIAL_URL} is not the published file (sha256 of its IDX "
                                f"bytes {got[:12]}..., expected {sha[:12]}...): nothing was placed in {dest}")
        for old in (dest / stem, dest / f"{stem}.gz"):  # a stale or damaged copy under the other name
            old.unlink(missing_ok=True)
        fetched.replace(dest / fetched.name)
        sums[stem] = sha
    shutil.rmtree(staging, ignore_errors=True)
    return sums


@dataclass(frozen=True)
class FashionMNISTSplit:
    """How the Fashion-MNIST benchmark cuts and shrinks the data: ``resolution`` pixels per side
    (area-averaged from 28), ``n_train`` training images and ``n_val`` validation images (multiples
    of 10: both stratified, the same count of every class), chosen with ``split_seed``."""

    resolution: int = 8
    n_train: int = 3000
    n_val: int = 2000
    split_seed: int = 0


# The split of the shipped Fashion-MNIST benchmark (the design study's "small" protocol,
# docs/design-study.md): 2000 training images, 5000 validation images; its resolution is the dataset's
# (costs.DATASET_SPECS).
FASHION_MNIST = FashionMNISTSplit(resolution=DATASET_SPECS["fashion-mnist"].resolution, n_train=2000, n_val=5000)
