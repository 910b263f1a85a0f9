"""Fashion-MNIST as real, offline data: the IDX reader on a fixture written by hand
(tests/data/fashion-mnist-fixture, README there), the benchmark's split of it, the folders it is
looked for in, and the download of the official files from a loopback HTTP server (checksums,
resume after a broken transfer, nothing landing that does not check out)."""
from __future__ import annotations

import gzip
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from robbench_plugin import fashion_mnist
from robbench_plugin.errors import DataFileError
from robbench_plugin.idx import parse_idx, read_idx

from .conftest import DATA

FIXTURE = DATA / "fashion-mnist-fixture"
# the fixture's files: sha256 of the IDX bytes and their length (tests/data/README.md)
FIXTURE_FILES = {
    "train-images-idx3-ubyte": ("d606bd78c6b7055dce6d1faaecd97cce83249a544d51e6839f643de83c9934f4", 23536),
    "train-labels-idx1-ubyte": ("f58e998da2eacdb104f0ec0b4668fd39b77f910effea3fd0aa6e08c69685e2c5", 38),
    "t10k-images-idx3-ubyte": ("12d34e1a13144fa70297ab0237671db48ab19f9c37fce7cf38574dc4068fe421", 15696),
    "t10k-labels-idx1-ubyte": ("be5713d8829571e59f34b543f7eeb521b1207d313487555fc3ab72f4165083f4", 28),
}


def expected_images(n: int) -> np.ndarray:
    """The fixture's images by their construction: pixel (r, c) of image i is (i + 28 r + c) mod 256."""
    i, r, c = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
    return ((i + 28 * r + c) % 256).astype(np.uint8)


def test_the_idx_reader_reads_the_fixture_plain_and_gzipped(tmp_path):
    images = read_idx(FIXTURE / "train-images-idx3-ubyte.gz")
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images, expected_images(30))
    labels = read_idx(FIXTURE / "t10k-labels-idx1-ubyte.gz")
    assert labels.tolist() == [i % 10 for i in range(20)]
    plain = tmp_path / "t10k-images-idx3-ubyte"
    plain.write_bytes(gzip.decompress((FIXTURE / "t10k-images-idx3-ubyte.gz").read_bytes()))
    assert np.array_equal(read_idx(plain), expected_images(20))


@pytest.mark.parametrize("data, why", [(b"", "magic"), (b"\x01\x00\x08\x01", "magic"), (b"\x00\x00\x07\x01", "magic"),
                                       (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "truncated"),
                                       (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "truncated"),
                                       (b"\x00\x00\x08\x02\x00\x00", "truncated")])
def test_a_damaged_idx_file_is_our_error(data, why):
    with pytest.raises(DataFileError, match=why):
        parse_idx(data, "x")


def test_idx_types_follow_the_format():
    # a 2x2 big-endian int16 array: 1, -2, 258, 0
    data = b"\x00\x00\x0b\x02\x00\x00\x00\x02\x00\x00\x00\x02" + b"\x00\x01\xff\xfe\x01\x02\x00\x00"
    assert parse_idx(data).tolist() == [[1, -2], [258, 0]]


def test_the_benchmark_split_of_the_fixture():
    import torch

    from robbench_plugin.train.data import FashionMNISTSplit, fashion_mnist_splits

    s = fashion_mnist_splits(FIXTURE, FashionMNISTSplit(resolution=8, n_train=20, n_val=10), verify=False)
    assert s.train[0].shape == (20, 1, 8, 8) and s.val[0].shape == (10, 1, 8, 8) and s.test[0].shape == (10, 1, 8, 8)
    # stratified, classes in round-robin order: every prefix of 10 holds each class once
    assert s.val[1].tolist() == list(range(10)) and s.train[1].tolist() == list(range(10)) * 2
    # area averaging 28 -> 8: output pixel (0, 0) is the mean of rows 0-3 and columns 0-3 of its image
    i = int(torch.nonzero(s.val[1] == 3)[0])  # the val image of class 3 is one of the test images 3 or 13
    x = s.val[0][i, 0, 0, 0].item() * 255
    assert min(abs(x - (k + 28 * 1.5 + 1.5)) for k in (3, 13)) < 1e-4
    # every value is a fraction in [0, 1]; test = the test images not in val
    assert 0 <= float(s.train[0].min()) and float(s.train[0].max()) <= 1
    assert sorted(s.test[1].tolist() + s.val[1].tolist()) == sorted(i % 10 for i in range(20))


def test_files_are_checked_against_the_published_checksums():
    from robbench_plugin.train.data import FashionMNISTSplit, fashion_mnist_splits

    with pytest.raises(DataFileError, match="not the published"):
        fashion_mnist_splits(FIXTURE, FashionMNISTSplit(resolution=8, n_train=20, n_val=10))


def test_missing_data_names_both_ways_to_get_it(tmp_path, monkeypatch):
    from robbench_plugin.train.data import load_splits

    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    with pytest.raises(DataFileError, match=r"--data-dir.*robbench download fashion-mnist"):
        load_splits("fashion-mnist")
    with pytest.raises(DataFileError, match=r"lacks train-images-idx3-ubyte.*--data-dir"):
        load_splits("fashion-mnist", tmp_path)


class _Server:
    """A loopback HTTP server of the fixture's files with Range support; ``cut`` names files whose
    first full response is cut after half of its bytes (a broken transfer)."""

    def __init__(self, folder: Path, cut=(), tamper=()):
        self.folder, self.cut, self.tamper, self.ranges = folder, set(cut), set(tamper), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                path = server.folder / name
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                if name in server.tamper:
                    data = gzip.compress(gzip.decompress(data)[:-1] + b"\x07", mtime=0)
                start = 0
                if self.headers.get("Range"):
                    server.ranges.append((name, self.headers["Range"]))
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if name in server.cut and not start:
                    server.cut.discard(name)
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(data[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> "_Server":
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_from_a_loopback_server_resumes_and_checks(tmp_path):
    with _Server(FIXTURE, cut={"train-images-idx3-ubyte.gz"}) as server:
        dest = tmp_path / "fm"
        with pytest.raises(DataFileError, match="run again to resume"):
            fashion_mnist.download(dest, source=server.url, files=FIXTURE_FILES)
        part = dest / fashion_mnist.STAGING / "train-images-idx3-ubyte.gz.part"
        assert part.is_file() and 0 < part.stat().st_size < (FIXTURE / "train-images-idx3-ubyte.gz").stat().st_size
        assert fashion_mnist.file_in(dest, "train-images-idx3-ubyte") is None  # nothing half-written landed
        kept = part.stat().st_size
        sums = fashion_mnist.download(dest, source=server.url, files=FIXTURE_FILES)
        assert server.ranges == [("train-images-idx3-ubyte.gz", f"bytes={kept}-")]  # resumed where it broke
        assert sums == {k: v[0] for k, v in FIXTURE_FILES.items()}
        for stem in FIXTURE_FILES:
            assert (dest / f"{stem}.gz").read_bytes() == (FIXTURE / f"{stem}.gz").read_bytes()
        assert not (dest / fashion_mnist.STAGING).exists()
        assert np.array_equal(read_idx(dest / "train-images-idx3-ubyte.gz"), expected_images(30))


def test_a_file_that_does_not_check_out_never_lands(tmp_path):
    with _Server(FIXTURE, tamper={"t10k-labels-idx1-ubyte.gz"}) as server:
        dest = tmp_path / "fm"
        with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte .*not the published file"):
            fashion_mnist.download(dest, source=server.url, files=FIXTURE_FILES)
        assert fashion_mnist.file_in(dest, "t10k-labels-idx1-ubyte") is None
        assert not list((dest / fashion_mnist.STAGING).glob("t10k-labels*"))


def test_download_from_a_local_folder_and_the_cli(tmp_path, monkeypatch, capsys):
    from robbench_plugin.cli import main

    dest = tmp_path / "fm"
    assert fashion_mnist.download(dest, source=str(FIXTURE), files=FIXTURE_FILES) == {
        k: v[0] for k, v in FIXTURE_FILES.items()}
    # the command with the published checksums refuses the fixture: one error line, exit 2, nothing placed
    code = main(["download", "fashion-mnist", "--from", str(FIXTURE), "--dest", str(tmp_path / "cli")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not the published file" in err[0]
    assert fashion_mnist.file_in(tmp_path / "cli", "train-images-idx3-ubyte") is None


def test_results_on_another_split_of_the_files_never_share_a_key(tmp_path, monkeypatch):
    """The split is part of what keys a Fashion-MNIST result: the live store's key and a build's
    manifest name it, so a build or a results store made on another split is not reused."""
    from robbench_plugin.data_identity import data_key
    from robbench_plugin.train import builder
    from robbench_plugin.train.builder import BuildPlan

    assert data_key("fashion-mnist") == "fashion-mnist:8px:2000:5000:0"  # the documented split
    assert data_key("digits") == "digits"  # a fixed split: the name, as stored so far
    plan = BuildPlan.for_dataset("fashion-mnist")
    builder._write_manifest(tmp_path, plan)
    monkeypatch.setattr(fashion_mnist, "FASHION_MNIST", fashion_mnist.FashionMNISTSplit(8, 3000, 2000))
    assert data_key("fashion-mnist") == "fashion-mnist:8px:3000:2000:0"
    with pytest.raises(DataFileError, match="differs in data_key"):
        builder._write_manifest(tmp_path, plan)
    pytest.importorskip("torch")
    from robbench_plugin.live import LiveBenchmark

    live = LiveBenchmark("fashion-mnist", "tiny", device="cpu", store=tmp_path / "store")
    assert live.run_key(0).dataset == "fashion-mnist:8px:3000:2000:0"


def test_release_datasets_are_keyed_by_the_nb201_split_file_in_their_folder(tmp_path):
    """CIFAR/ImageNet16 results depend on whether NAS-Bench-201's split file is in the data folder
    (train/data.py uses its halves, else the whole test set): the key says which, and which file."""
    import hashlib

    from robbench_plugin.data_identity import data_key
    from robbench_plugin.train import builder
    from robbench_plugin.train.builder import BuildPlan
    from robbench_plugin.train.recipe import Recipe

    bare, with_split = tmp_path / "bare", tmp_path / "split"
    bare.mkdir()
    with_split.mkdir()
    content = b'{"train": [0, 1], "valid": [2, 3]}'
    (with_split / "cifar-split.txt").write_bytes(content)
    (with_split / "cifar100-test-split.txt").write_bytes(content + b" ")
    # every key of a release data set says the images are normalised with NAS-Bench-201's constants
    assert data_key("cifar10", bare) == "cifar10:whole-test:norm-nb201"
    assert data_key("cifar10", with_split) == \
        f"cifar10:cifar-split.txt:{hashlib.sha256(content).hexdigest()[:12]}:norm-nb201"
    assert data_key("cifar100", with_split) == \
        f"cifar100:cifar100-test-split.txt:{hashlib.sha256(content + b' ').hexdigest()[:12]}:norm-nb201"
    assert data_key("imagenet", with_split) == "imagenet:whole-test:norm-nb201"  # its own file is not there
    # a recipe that trains on the whole sets (the release's data_split full) ignores the split file
    assert data_key("cifar10", with_split, "full") == data_key("cifar10", bare) == "cifar10:whole-test:norm-nb201"
    assert data_key("cifar10") == "cifar10"  # no folder: nothing can be trained
    # a build started on the whole test set refuses to be resumed once the split file is there
    pytest.importorskip("torch")
    plan = BuildPlan(dataset="cifar10", recipe=Recipe.preset("tiny"))
    out = tmp_path / "build"
    assert builder.build(out, plan, workers=1, data_root=str(bare), limit=0, progress=False) == 0
    assert builder.read_manifest(out)["data_key"] == "cifar10:whole-test:norm-nb201"
    builder.build(out, plan, workers=1, data_root=str(bare), limit=0, progress=False)  # same data: resumes
    with pytest.raises(DataFileError, match="differs in data_key"):
        builder.build(out, plan, workers=1, data_root=str(with_split), limit=0, progress=False)
    from robbench_plugin.live import LiveBenchmark

    keys = {LiveBenchmark("cifar10", "tiny", device="cpu", data_root=root, store=tmp_path / "store").run_key(5)
            for root in (bare, with_split)}
    assert {k.dataset for k in keys} == {data_key("cifar10", bare), data_key("cifar10", with_split)}
