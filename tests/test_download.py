import functools
import http.server
import threading

import pytest

from robbench_plugin.download import STAGING, download_release
from robbench_plugin.errors import DataFileError
from robbench_plugin.fileutil import sha256_file
from robbench_plugin.release import DATA_FILE, META_FILE, RELEASE_FILES


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HTTP Range support (as mirrors have)."""

    requests_seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests_seen.append((self.path, self.headers.get("Range")))
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        start = 0
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def mirror(synthetic_release):
    _RangeHandler.requests_seen = []
    handler = functools.partial(_RangeHandler, directory=str(synthetic_release))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_mirror_download_records_sha_and_matches(mirror, synthetic_release, tmp_path):
    sums = download_release(tmp_path / "dest", source=mirror)
    for name in RELEASE_FILES:
        assert sums[name] == sha256_file(synthetic_release / name)
        assert (tmp_path / "dest" / name).read_bytes() == (synthetic_release / name).read_bytes()
    assert (tmp_path / "dest" / "checksums.json").is_file()
    assert not list((tmp_path / "dest").glob("*.part"))


def test_mirror_download_resumes_from_part_file(mirror, synthetic_release, tmp_path):
    dest = tmp_path / "dest"
    (dest / STAGING).mkdir(parents=True)
    full = (synthetic_release / DATA_FILE).read_bytes()
    (dest / STAGING / (DATA_FILE + ".part")).write_bytes(full[:1000])
    download_release(dest, source=mirror)
    assert (dest / DATA_FILE).read_bytes() == full
    assert (f"/{DATA_FILE}", "bytes=1000-") in _RangeHandler.requests_seen


def test_local_path_source_and_existing_files_kept(synthetic_release, tmp_path):
    sums = download_release(tmp_path / "d", source=str(synthetic_release))
    assert sums[META_FILE] == sha256_file(synthetic_release / META_FILE)
    mtime = (tmp_path / "d" / META_FILE).stat().st_mtime_ns
    download_release(tmp_path / "d", source=str(synthetic_release))
    assert (tmp_path / "d" / META_FILE).stat().st_mtime_ns == mtime


def test_unreachable_mirror_gives_manual_instructions(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    with pytest.raises(DataFileError, match="copy them"):
        download_release(tmp_path / "d", source=f"http://127.0.0.1:{port}")


def test_bad_sources(tmp_path):
    with pytest.raises(DataFileError, match="lacks"):
        download_release(tmp_path / "d", source=str(tmp_path))
    with pytest.raises(DataFileError, match="scheme 'ftp'"):
        download_release(tmp_path / "d", source="ftp://127.0.0.1/x")


def test_truncated_source_is_refused_and_nothing_lands(synthetic_release, tmp_path):
    """A truncated copy of the data file: an error at download time, not at load; dest stays empty."""
    src = tmp_path / "src"
    src.mkdir()
    (src / META_FILE).write_bytes((synthetic_release / META_FILE).read_bytes())
    data = (synthetic_release / DATA_FILE).read_bytes()
    (src / DATA_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="does not validate, nothing was installed"):
        download_release(tmp_path / "d", source=str(src))
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == []


def test_corrupt_copy_in_place_is_replaced_by_a_good_source(synthetic_release, tmp_path):
    """An earlier bad copy (e.g. interrupted by hand) is replaced without --force; a good one is kept."""
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / META_FILE).write_bytes((synthetic_release / META_FILE).read_bytes())
    (dest / DATA_FILE).write_bytes((synthetic_release / DATA_FILE).read_bytes()[:5000])
    sums = download_release(dest, source=str(synthetic_release))
    assert (dest / DATA_FILE).read_bytes() == (synthetic_release / DATA_FILE).read_bytes()
    assert sums[DATA_FILE] == sha256_file(synthetic_release / DATA_FILE)
    assert not (dest / STAGING).exists()
