import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

from robbench_plugin.build_table import build_progress, pack_build, table_from_build  # noqa: E402
from robbench_plugin.errors import DataFileError  # noqa: E402
from robbench_plugin.objective import Benchmark  # noqa: E402
from robbench_plugin.train.builder import BuildPlan, build, build_status, done_jobs, read_shards  # noqa: E402
from robbench_plugin.train.environment import environment  # noqa: E402
from robbench_plugin.train.recipe import Recipe  # noqa: E402
from robbench_plugin.space import unique_indices  # noqa: E402
import numpy as np  # noqa: E402

UIDS = (0, 1, 10, 1000, 1462, 14)


def _plan():
    return BuildPlan(dataset="digits", recipe=Recipe.preset("tiny").replace(epochs=1), uids=UIDS,
                     extra_fraction=0.5, extra_seeds=(1,))


def test_plan_jobs():
    jobs = _plan().jobs()
    assert len(jobs) == 6 + 3 and len(set(jobs)) == len(jobs)
    assert sum(1 for _, s in jobs if s == 1) == 3
    full = BuildPlan().jobs()
    assert len(full) == 6466 + 2 * 647


def test_a_shuffled_plan_trains_the_same_jobs_seed_0_first_in_random_order():
    """The Fashion-MNIST plan: every class at seeds 0 and 1, seed 0 of all first, each seed's
    classes in a random order (a stopped build is a uniform sample, not the lowest uids)."""
    plan = BuildPlan.for_dataset("fashion-mnist")
    jobs = plan.jobs()
    assert len(jobs) == 2 * 6466 and set(jobs) == {(int(u), s) for s in (0, 1) for u in unique_indices()}
    assert {s for _, s in jobs[:6466]} == {0}
    first = [u for u, _ in jobs[:6466]]
    assert first != sorted(first) and jobs == plan.jobs()
    # a prefix is spread over the uid range like a uniform sample (uid order would give the lowest 10%)
    assert np.median(first[:647]) == pytest.approx(np.median(unique_indices()), rel=0.15)
    assert plan.to_dict()["shuffled"] is True and "shuffled" not in _plan().to_dict()


def test_build_resume_after_sigkill_never_duplicates(tmp_path):
    out = tmp_path / "b"
    script = textwrap.dedent(f"""
        from robbench_plugin.train.builder import BuildPlan, build
        from robbench_plugin.train.recipe import Recipe
        plan = BuildPlan(dataset="digits", recipe=Recipe.preset("tiny").replace(epochs=1), uids={UIDS!r},
                         extra_fraction=0.5, extra_seeds=(1,))
        build({str(out)!r}, plan, workers=1, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(read_shards(out))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = list(read_shards(out))
    assert 2 <= len(before) < 9
    # simulate a torn write: a partial trailing line must be ignored
    shard = sorted((out / "shards").glob("*.jsonl"))[0]
    with shard.open("a") as fh:
        fh.write('{"uid": 99, "seed"')
    n = build(out, _plan(), workers=1, progress=False)
    recs = list(read_shards(out))
    keys = [(r["uid"], r["seed"]) for r in recs]
    assert len(keys) == len(set(keys)) == 9
    assert n == 9 - len(before)
    assert build_status(out, _plan())["complete"]
    assert build(out, _plan(), workers=1, progress=False) == 0


def test_manifest_guards_against_mixing_recipes(tmp_path):
    build(tmp_path, _plan(), workers=1, progress=False, limit=1)
    other = BuildPlan(dataset="digits", recipe=Recipe.preset("tiny").replace(epochs=2), uids=UIDS)
    with pytest.raises(DataFileError, match="recipe_key"):
        build(tmp_path, other, workers=1, progress=False)


@pytest.mark.parametrize("change, field", [({"extra_seeds": (2,)}, "extra_seeds"),
                                           ({"extra_fraction": 0.25}, "extra_fraction"),
                                           ({"plan_seed": 7}, "plan_seed"), ({"uids": UIDS[:3]}, "uids"),
                                           ({"shuffled": True}, "shuffled")])
def test_manifest_guards_the_whole_plan(tmp_path, change, field):
    """Same recipe, another plan: resuming would mix two job lists in one build, so it is refused."""
    build(tmp_path, _plan(), workers=1, progress=False, limit=1)
    before = sorted(p.name for p in (tmp_path / "shards").iterdir())
    plan = BuildPlan(**{**dict(dataset="digits", recipe=_plan().recipe, uids=UIDS, extra_fraction=0.5,
                               extra_seeds=(1,)), **change})
    with pytest.raises(DataFileError, match=f"differs in {field}"):
        build(tmp_path, plan, workers=1, progress=False)
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == before  # nothing written


def test_a_build_is_resumed_only_in_its_environment(tmp_path, monkeypatch):
    """The manifest records the torch version and CPU SIMD level the runs were made with, and each
    record the whole environment it was trained in (with its CPU, as /proc/cpuinfo names it);
    resuming under another torch or SIMD level is refused (one table, one kernel family), on
    another CPU it goes on (its records say so)."""
    import json

    build(tmp_path, _plan(), workers=1, progress=False, limit=1)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    here = environment()
    assert manifest["environment"] == {"torch": here["torch"], "cpu_capability": here["cpu_capability"]}
    with open("/proc/cpuinfo") as f:  # the first processor's block
        fields = dict(map(str.strip, line.split(":", 1)) for line in f.read().split("\n\n")[0].splitlines())
    assert here["cpu"] == f"{fields['vendor_id']} {fields['model name']}"
    [record] = list(read_shards(tmp_path))
    assert record["environment"] == here
    stale = {**manifest, "environment": {**manifest["environment"], "cpu_capability": "some other SIMD level"}}
    (tmp_path / "manifest.json").write_text(json.dumps(stale))
    with pytest.raises(DataFileError, match="differs in environment") as refused:
        build(tmp_path, _plan(), workers=1, progress=False)
    assert "ATEN_CPU_CAPABILITY" not in str(refused.value)  # no level to go on at
    if here["cpu_capability"] in ("AVX2", "AVX512"):  # a build made at a lower level: torch's setting goes on
        lower = {**manifest, "environment": {**manifest["environment"], "cpu_capability": "DEFAULT"}}
        (tmp_path / "manifest.json").write_text(json.dumps(lower))
        with pytest.raises(DataFileError, match="ATEN_CPU_CAPABILITY=default robbench build"):
            build(tmp_path, _plan(), workers=1, progress=False)
        env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
        code = ("import json; from robbench_plugin.train.environment import build_environment, environment; "
                "print(build_environment()['cpu_capability']); print(json.dumps(environment()))")
        level, held = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout.split("\n", 1)
        assert level == "DEFAULT"  # what the hint says does set the level
        # and a run held there says which level the CPU has: torch's own without the setting, here
        assert json.loads(held) == {**here, "cpu_capability": "DEFAULT", "native_cpu_capability": here["cpu_capability"]}
    assert "native_cpu_capability" not in here  # not held: the key is absent, as in earlier records
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    import robbench_plugin.train.environment as where

    where._environment.cache_clear()
    monkeypatch.setattr(where, "cpu_model", lambda: "some other CPU")
    try:
        assert build(tmp_path, _plan(), workers=1, progress=False, limit=1) == 1
    finally:
        where._environment.cache_clear()
    assert sorted(r["environment"]["cpu"] for r in read_shards(tmp_path)) == sorted([here["cpu"], "some other CPU"])


def test_corrupt_manifest_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "manifest.json").write_text('{"dataset": "digits", "reci')
    with pytest.raises(DataFileError, match=r"manifest\.json is not valid JSON"):
        table_from_build(tmp_path)
    with pytest.raises(DataFileError, match=r"manifest\.json is not valid JSON"):
        build(tmp_path, _plan(), workers=1, progress=False)


def test_packed_build_reads_back_the_same_table_and_refuses_a_damaged_copy(tmp_path):
    build(tmp_path / "b", _plan(), workers=1, progress=False, limit=3)
    archive = tmp_path / "x.build.tar.xz"
    sha = pack_build(tmp_path / "b", archive)
    assert (tmp_path / "x.build.tar.xz.sha256").read_text() == f"{sha}  x.build.tar.xz\n"
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == sha
    assert pack_build(tmp_path / "b", tmp_path / "y.build.tar.xz") == sha  # same build, same bytes
    assert table_from_build(archive).sha256() == table_from_build(tmp_path / "b").sha256()
    data = archive.read_bytes()
    archive.write_bytes(data[:-10])
    with pytest.raises(DataFileError, match="does not match x.build.tar.xz.sha256"):
        table_from_build(archive)
    (tmp_path / "x.build.tar.xz.sha256").unlink()
    with pytest.raises(DataFileError, match="no checksum file"):
        table_from_build(archive)


def test_a_build_packed_while_a_line_is_written_packs_its_finished_runs(tmp_path):
    """A shard's trailing partial line (a run being written, or a kill during the write) is not
    packed: the archive is byte for byte the one of the build without it, and holds its 3 runs."""
    build(tmp_path / "b", _plan(), workers=1, progress=False, limit=3)
    clean = pack_build(tmp_path / "b", tmp_path / "clean.build.tar.xz")
    (shard,) = (tmp_path / "b" / "shards").glob("*.jsonl")
    with shard.open("ab") as fh:
        fh.write(b'{"arch": "|nor_conv_3x3~0|+|none~0|none~1|+|skip_conn')
    assert pack_build(tmp_path / "b", tmp_path / "torn.build.tar.xz") == clean
    assert len(list(read_shards(tmp_path / "b"))) == 3 and build_progress(tmp_path / "torn.build.tar.xz")["done"] == 3


def test_built_table_answers_like_the_records(tmp_path):
    build(tmp_path, _plan(), workers=2, progress=False)
    table = table_from_build(tmp_path, require_complete=True)
    bench = Benchmark(table, "digits")
    recs = {(r["uid"], r["seed"]): r for r in read_shards(tmp_path)}
    # nine runs are too few to tell the operations' costs apart: every cell is charged the median
    # run's seconds per epoch, whatever its seed (the clock is the model, not the load)
    epochs = len(recs[next(iter(recs))]["epochs"])
    median_epoch = float(np.median([sum(e["time_s"] for e in r["epochs"]) / epochs for r in recs.values()]))
    assert len(recs) == 9
    for (uid, seed), r in recs.items():
        assert bench.query(uid, "clean", seed=str(seed)) == r["epochs"][-1]["val_acc"]
        assert bench.query(uid, "robust", seed=str(seed)) == r["epochs"][-1]["val_pgd_48.0_acc"]
        assert bench.query(uid, "time_s", seed=str(seed), fidelity=epochs) == r["epochs"][-1]["time_s"]
        assert bench.train_time(uid, seed=str(seed)) == pytest.approx(epochs * median_epoch, rel=1e-12)
    assert bench.resolve_metric("robust") == "val_pgd_48.0_acc"
    assert table.meta.time_source == "recorded"


def test_build_progress_counts_the_plan_and_the_seconds_its_runs_recorded(tmp_path, capsys):
    """3 of the 9 jobs done (the plan trains seed 0 of its 6 classes first); the seconds are the
    records' own, summed by hand here; an archive of the build says the same."""
    build(tmp_path / "b", _plan(), workers=1, progress=False, limit=3)
    recs = list(read_shards(tmp_path / "b"))
    st = build_progress(tmp_path / "b")
    assert (st["done"], st["total"], st["complete"]) == (3, 9, False)
    assert st["seeds"] == {0: [3, 6], 1: [0, 3]}
    per_run = sorted(sum(e["time_s"] + e["eval_time_s"] for e in r["epochs"]) for r in recs)
    assert st["train_s"] + st["eval_s"] == pytest.approx(sum(per_run), rel=1e-12)
    assert st["median_run_s"] == pytest.approx(per_run[1], rel=1e-12)
    assert st["remaining_s"] == pytest.approx(6 * per_run[1], rel=1e-12)
    assert st["runs_until_seed"] == {0: 3, 1: 6}  # seed 0's other three classes, then seed 1's three
    assert st["cpus"] == {environment()["cpu"]: 3}
    pack_build(tmp_path / "b", tmp_path / "b.build.tar.xz")
    assert build_progress(tmp_path / "b.build.tar.xz") == st
    from robbench_plugin.cli import main

    assert main(["build-status", str(tmp_path / "b")]) == 0
    text = capsys.readouterr().out
    assert "3 of 9 runs" in text and "seed 0: 3 of 6; seed 1: 0 of 3" in text
    assert "seed 0 complete after 3 more runs" in text and "seed 1 complete" not in text  # seed 1 ends the build
    assert f"trained: 3 runs on {environment()['cpu']}" in text


def test_build_progress_says_which_runs_were_held_below_their_cpus_level(tmp_path, monkeypatch):
    """Runs trained with torch held below the CPU's own SIMD level are counted apart from the same
    CPU model's other runs, with both levels."""
    import robbench_plugin.train.environment as where

    build(tmp_path, _plan(), workers=1, progress=False, limit=1)
    here = environment()
    held = (("torch", here["torch"]), ("cpu_capability", here["cpu_capability"]), ("cpu", here["cpu"]),
            ("native_cpu_capability", "AVX512"))
    monkeypatch.setattr(where, "_environment", lambda: held)
    assert build(tmp_path, _plan(), workers=1, progress=False, limit=2) == 2
    assert build_progress(tmp_path)["cpus"] == {
        here["cpu"]: 1, f"{here['cpu']} (AVX512 CPU held at {here['cpu_capability']})": 2}


def test_build_progress_of_the_shipped_digits_build_is_its_plan():
    """digits v1: every class at seed 0, seeds 1 and 2 for 647 of them (10%), all done."""
    from pathlib import Path

    st = build_progress(Path(__file__).resolve().parents[1] / "data" / "digits-v1.build.tar.xz")
    assert (st["dataset"], st["done"], st["total"], st["complete"]) == ("digits", 6466 + 2 * 647, 7760, True)
    assert st["seeds"] == {0: [6466, 6466], 1: [647, 647], 2: [647, 647]} and st["remaining_s"] == 0
    assert st["runs_until_seed"] == {0: 0, 1: 0, 2: 0}
    assert st["cpus"] == {"not recorded": 7760}  # built before runs named their CPU


def test_build_progress_counts_a_stalled_epoch_at_its_median(tmp_path):
    """A build stopped while a run trained (SIGSTOP, a suspended machine) records the pause as that
    epoch's seconds; build_progress and the table count such an epoch (over 20x that epoch's median
    over the runs) at the median, and leave every other value as recorded."""
    import json

    build(tmp_path / "b", _plan(), workers=1, progress=False, limit=3)
    shard = next((tmp_path / "b" / "shards").glob("*.jsonl"))
    recs = [json.loads(line) for line in shard.read_text().splitlines()]
    honest = build_progress(tmp_path / "b")
    assert honest["stalled_runs"] == 0 and honest["stalled_s"] == pytest.approx(0.0, abs=1e-9)
    first = [r["epochs"][0]["time_s"] for r in recs]
    recs[1]["epochs"][0]["time_s"] = 1000.0 * max(first)  # paused for a while in its first epoch
    shard.write_text("".join(json.dumps(r) + "\n" for r in recs))
    st = build_progress(tmp_path / "b")
    median = float(np.median([first[0], 1000.0 * max(first), first[2]]))
    assert st["stalled_runs"] == 1
    assert st["stalled_s"] == pytest.approx(1000.0 * max(first) - median, rel=1e-9)
    assert st["train_s"] == pytest.approx(honest["train_s"] - first[1] + median, rel=1e-9)
    assert st["eval_s"] == pytest.approx(honest["eval_s"], rel=1e-12)
    # the table read from the build charges that epoch its median too; every other value is the record's
    bench = Benchmark(table_from_build(tmp_path / "b"), "digits")
    for i, r in enumerate(recs):
        want = median if i == 1 else r["epochs"][0]["time_s"]
        assert bench.query(r["uid"], "time_s", seed=str(r["seed"]), fidelity=1) == pytest.approx(want, rel=1e-12)
        assert bench.query(r["uid"], "clean", seed=str(r["seed"])) == r["epochs"][-1]["val_acc"]


def test_a_build_goes_on_from_its_archive_on_a_new_machine(tmp_path, capsys):
    """`robbench build --from ARCHIVE` copies the archive's runs into an empty --out and trains on
    from there (the runs it held are not trained again, the copies are byte for byte the archive's);
    an archive of another plan is refused with one line and exit 2 before anything is written."""
    from robbench_plugin.cli import main

    plan = BuildPlan.for_dataset("digits", Recipe.preset("tiny"))
    build(tmp_path / "a", plan, workers=1, progress=False, limit=2)
    pack_build(tmp_path / "a", tmp_path / "a.build.tar.xz")
    shard_bytes = {p.name: p.read_bytes() for p in (tmp_path / "a" / "shards").iterdir()}
    args = ["build", "digits", "--recipe", "tiny", "--workers", "1", "--limit", "1", "--from",
            str(tmp_path / "a.build.tar.xz")]
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "copied 1 shard(s)" in capsys.readouterr().out
    shards = {p.name: p.read_bytes() for p in (tmp_path / "b" / "shards").iterdir()}
    assert len(shards) == 2 and all(shards[name] == data for name, data in shard_bytes.items())
    first_three = plan.jobs()[:3]
    assert sorted(done_jobs(tmp_path / "b")) == sorted(first_three)
    assert (tmp_path / "b" / "manifest.json").read_bytes() == (tmp_path / "a" / "manifest.json").read_bytes()
    # again on the same --out: nothing to copy (its shards are there), one more run trained
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "copied 0 shard(s)" in capsys.readouterr().out and len(done_jobs(tmp_path / "b")) == 4

    assert main(["build", "digits", "--recipe", "quick", "--workers", "1", "--limit", "1", "--out",  # another plan
                 str(tmp_path / "c"), "--from", str(tmp_path / "a.build.tar.xz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--from" in err[0] and "another plan" in err[0]
    assert not (tmp_path / "c").exists()
    here = environment()
    if here["cpu_capability"] in ("AVX2", "AVX512"):  # an archive made at a lower SIMD level: the refusal says how to go on
        import json
        import shutil

        shutil.copytree(tmp_path / "a", tmp_path / "lower")
        manifest = json.loads((tmp_path / "lower" / "manifest.json").read_text())
        manifest["environment"] = {**manifest["environment"], "cpu_capability": "DEFAULT"}
        (tmp_path / "lower" / "manifest.json").write_text(json.dumps(manifest))
        pack_build(tmp_path / "lower", tmp_path / "lower.build.tar.xz")
        assert main([*args, "--out", str(tmp_path / "d"), "--from", str(tmp_path / "lower.build.tar.xz")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "ATEN_CPU_CAPABILITY=default robbench build" in err[0]
        assert not (tmp_path / "d").exists()


def test_packaging_an_unfinished_build_is_refused_in_one_line(tmp_path, capsys):
    """scripts/package_embedded.py on an archive of an unfinished build: exit 1, one line naming the
    archive (not the folder it was unpacked into) and how many runs are missing, no table written."""
    import importlib.util

    build(tmp_path / "b", _plan(), workers=1, progress=False, limit=3)
    archive = tmp_path / "b.build.tar.xz"
    pack_build(tmp_path / "b", archive)
    script = Path(__file__).resolve().parents[1] / "scripts" / "package_embedded.py"
    spec = importlib.util.spec_from_file_location("package_embedded", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = {p.name: p.stat().st_mtime_ns for p in module.DATA.iterdir()}
    assert module.main(["--benchmark", "digits", "--build", str(archive), "--report", str(tmp_path / "report")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"package_embedded: build {archive} is incomplete: {len(_plan().jobs()) - 3} of "
                   f"{len(_plan().jobs())} runs missing (robbench build-status {archive})"]
    assert {p.name: p.stat().st_mtime_ns for p in module.DATA.iterdir()} == shipped
    assert not (tmp_path / "report").exists()


def test_held_level_is_the_builds_level_only_below_this_machines_with_the_same_torch():
    """torch can be held below the CPU's SIMD level (ATEN_CPU_CAPABILITY), never above it, and a
    build of another torch cannot be gone on with at any level."""
    from robbench_plugin.train.environment import held_level

    def env(level, torch="2.13.0+cpu"):
        return {"torch": torch, "cpu_capability": level}

    assert held_level(env("AVX2"), env("AVX512")) == "AVX2"
    assert held_level(env("DEFAULT"), env("AVX2")) == "DEFAULT"
    assert held_level(env("AVX512"), env("AVX2")) is None  # above this CPU
    assert held_level(env("AVX2"), env("AVX2")) is None  # nothing to hold
    assert held_level(env("AVX2", torch="2.12.0+cpu"), env("AVX512")) is None
    assert held_level({}, env("AVX512")) is None  # a build that recorded no environment
