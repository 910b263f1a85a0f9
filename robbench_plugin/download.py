"""Fetching the NAS-RobBench-201 release into the cache directory.

Sources:
- default: the release's Google Drive folder, through gdown (resumable);
- ``source=PATH``: a local directory holding ``meta.json`` and ``NAS-RobBench-201_all.json``;
- ``source=URL`` (http/https/file): a mirror serving those two files under that base URL,
  fetched with HTTP Range resume into ``*.part`` files.

Files are fetched into a staging folder, validated as a whole release, then moved into place; the
sha256 of each is recorded in ``checksums.json`` beside it (the release publishes none, so this
records what was loaded).
"""
from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

from .errors import DataFileError
from .fileutil import atomic_path, atomic_write_json, sha256_file
from .paths import release_dir
from .release import GDRIVE_FOLDER, RELEASE_FILES

ProgressFn = Callable[[str, int, int | None], None]
STAGING = ".incoming"  # folder inside the destination where files are fetched and validated


def _manual_hint(dest: Path) -> str:
    return (f"Download {' and '.join(RELEASE_FILES)} from {GDRIVE_FOLDER} on a machine with access and copy them "
            f"into {dest} (or run `robbench download --from PATH_OR_MIRROR_URL`).")


def fetch_url(url: str, target: Path, progress: ProgressFn | None = None, chunk: int = 1 << 16,
              timeout: float = 30) -> None:
    """Fetch ``url`` (http, https or file) into ``target``: bytes go to ``<target>.part`` first, a
    broken transfer resumes from there with an HTTP Range request, and the part is renamed onto
    ``target`` only when whole (its announced length reached)."""
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # range not satisfiable: the part is already whole
            part.replace(target)
            return
        raise
    with resp:
        status = getattr(resp, "status", 200)
        if have and status != 206:  # server ignored the range: start over
            have = 0
        total = resp.headers.get("Content-Length")
        total = int(total) + have if total is not None else None
        with part.open("ab" if have else "wb") as fh:
            done = have
            while True:
                try:
                    block = resp.read(chunk)
                except (http.client.HTTPException, OSError) as exc:  # the connection broke: keep the part
                    raise DataFileError(f"download of {url} stopped at {done} of {total or '?'} bytes ({exc}); run "
                                        "again to resume") from exc
                if not block:
                    break
                fh.write(block)
                done += len(block)
                if progress:
                    progress(target.name, done, total)
    if total is not None and part.stat().st_size != total:
        raise DataFileError(f"download of {url} stopped at {part.stat().st_size} of {total} bytes; run again to resume")
    part.replace(target)


def _from_gdrive(dest: Path) -> None:
    try:
        import gdown
    except ImportError as exc:  # gdown is a core dependency; guard anyway
        raise DataFileError(f"gdown is not installed. {_manual_hint(dest)}") from exc
    try:
        files = gdown.download_folder(GDRIVE_FOLDER, output=str(dest / "_gdrive"), quiet=False, resume=True)
    except Exception as exc:
        raise DataFileError(f"cannot download from Google Drive ({type(exc).__name__}: {exc}); offline? "
                            f"{_manual_hint(dest)}") from exc
    if not files:
        raise DataFileError(f"Google Drive returned no files. {_manual_hint(dest)}")
    found = {Path(f).name: Path(f) for f in files}
    for name in RELEASE_FILES:
        if name not in found:
            raise DataFileError(f"the Drive folder has no {name} (got {sorted(found)}). {_manual_hint(dest)}")
        with atomic_path(dest / name) as tmp:
            shutil.copyfile(found[name], tmp)


def _verified(directory: Path) -> str | None:
    """None when ``directory`` holds a release that parses and validates, else why not."""
    from .release import convert_release

    try:
        convert_release(directory)
    except DataFileError as exc:
        return str(exc)
    return None


def download_release(dest: str | Path | None = None, source: str | None = None, force: bool = False,
                     progress: ProgressFn | None = None) -> dict[str, str]:
    """Place the release in ``dest`` (default ``<ROBBENCH_HOME>/nas-robbench-201``).

    The files are fetched into a staging folder inside ``dest``, parsed and validated there (the
    same checks as loading: JSON structure, index order, accuracies in [0, 1], representatives),
    and only then moved into place, so a truncated or corrupt source never lands in ``dest``. A
    copy already in ``dest`` is kept when it validates; one that does not (an interrupted or
    corrupt earlier copy) is replaced, as with ``force``.

    Returns ``{file name: sha256}``, also written to ``dest/checksums.json``.
    """
    dest = Path(dest) if dest is not None else release_dir()
    if dest.exists() and not dest.is_dir():
        raise DataFileError(f"--dest {dest} exists and is not a directory")
    _check_source(source)
    present = all((dest / f).is_file() for f in RELEASE_FILES)
    if force or not present or _verified(dest) is not None:
        staging = dest / STAGING
        staging.mkdir(parents=True, exist_ok=True)  # kept after a broken transfer: its .part files resume
        _fetch_all(staging, source, progress)
        problem = _verified(staging)
        if problem is not None:
            shutil.rmtree(staging, ignore_errors=True)
            raise DataFileError(f"the release from {source or 'Google Drive'} does not validate, nothing was "
                                f"installed in {dest}: {problem}")
        for name in RELEASE_FILES:
            (staging / name).replace(dest / name)
        shutil.rmtree(staging, ignore_errors=True)
    sums = {f: sha256_file(dest / f) for f in RELEASE_FILES}
    atomic_write_json(dest / "checksums.json", sums)
    return sums


def _check_source(source: str | None) -> None:
    """A source that cannot work is an error before anything is created."""
    if source is None:
        return
    if "://" in source:
        scheme = urllib.parse.urlparse(source).scheme
        if scheme not in ("http", "https", "file"):
            raise DataFileError(f"unsupported URL scheme {scheme!r} in --from {source!r}; valid: http, https, file")
        return
    src = Path(source).expanduser()
    missing = [f for f in RELEASE_FILES if not (src / f).is_file()]
    if missing:
        raise DataFileError(f"--from {src} lacks {', '.join(missing)}; expected {', '.join(RELEASE_FILES)} there")


def _fetch_all(staging: Path, source: str | None, progress: ProgressFn | None) -> None:
    """Both release files from ``source`` (None = Google Drive) into ``staging``."""
    if source is None:
        _from_gdrive(staging)
    elif "://" in source:
        for name in RELEASE_FILES:
            url = source.rstrip("/") + "/" + urllib.parse.quote(name)
            try:
                fetch_url(url, staging / name, progress)
            except (urllib.error.URLError, OSError) as exc:
                raise DataFileError(f"cannot fetch {url} ({exc}). {_manual_hint(staging.parent)}") from exc
    else:
        for name in RELEASE_FILES:
            shutil.copyfile(Path(source).expanduser() / name, staging / name)
