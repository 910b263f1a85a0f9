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
from pathlib import Path

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
