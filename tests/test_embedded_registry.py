"""The registry of embedded benchmarks (robbench_plugin.embedded): each name loads the table its entry
names, built with the recipe its entry names (the recipe recorded in the table, and in the build
archive's manifest), a versioned name pins its table, and a benchmark still being built says so."""
import json
import tarfile

import pytest

from robbench_plugin import BENCHMARKS, load_benchmark
from robbench_plugin.embedded import DEFAULT_BENCHMARK, EMBEDDED_BENCHMARKS, distinct_tables
from robbench_plugin.errors import DataFileError, InvalidChoiceError
from robbench_plugin.loader import EMBEDDED, embedded_available
from robbench_plugin.surrogate.cache import SHIPPED_SURROGATES
from robbench_plugin.train.recipe import Recipe

from .helpers import ROOT


def _manifest_recipe_key(archive) -> str:
    with tarfile.open(archive, "r:xz") as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith("manifest.json"))
        return json.loads(tf.extractfile(member).read())["recipe_key"]


BEING_BUILT = {"fashion-mnist-v2"}  # in the registry, its table not yet in the package


def test_every_name_but_the_ones_being_built_is_installed():
    assert {n for n in EMBEDDED_BENCHMARKS if not embedded_available(n)} == BEING_BUILT


@pytest.mark.parametrize("name", sorted(set(EMBEDDED_BENCHMARKS) - BEING_BUILT))
def test_each_name_loads_the_table_of_its_recipe_and_build(name):
    spec = EMBEDDED_BENCHMARKS[name]
    bench = load_benchmark(name)
    assert (bench.name, bench.dataset) == (name, spec.dataset)
    key = Recipe.preset(spec.recipe).key()
    assert Recipe.from_dict(bench.table.meta.recipe).key() == key
    assert _manifest_recipe_key(ROOT / "data" / spec.build) == key
    assert name in BENCHMARKS and EMBEDDED[name] == spec.table_file
    assert SHIPPED_SURROGATES.get(name) == spec.surrogate_file


def test_the_versioned_name_is_version_1_and_today_the_default():
    v1 = load_benchmark("fashion-mnist-v1")
    assert Recipe.from_dict(v1.table.meta.recipe).key() == "801106ba0969"  # v1's key since it was built
    assert load_benchmark(DEFAULT_BENCHMARK).table is v1.table  # one read for the two names
    assert set(distinct_tables()) == {"digits", "fashion-mnist", "fashion-mnist-v2"}


def test_live_mode_of_the_versioned_name_trains_its_recipe_on_its_dataset():
    pytest.importorskip("torch")
    live = load_benchmark("fashion-mnist-v1", mode="live")
    assert live.dataset == "fashion-mnist" and live.recipe.key() == "801106ba0969"


@pytest.mark.parametrize("name", sorted(BEING_BUILT))
def test_a_benchmark_being_built_names_its_build_and_trains_live(name):
    """Its build archive in data/ holds runs of its recipe; loading its table says how to build it;
    live mode trains its recipe already."""
    spec = EMBEDDED_BENCHMARKS[name]
    assert _manifest_recipe_key(ROOT / "data" / spec.build) == Recipe.preset(spec.recipe).key()
    with pytest.raises(DataFileError, match=f"not in this installation yet .*robbench build {spec.dataset} "
                                            f"--recipe {spec.recipe}"):
        load_benchmark(name)
    pytest.importorskip("torch")
    live = load_benchmark(name, mode="live")
    assert live.dataset == spec.dataset and live.recipe.key() == Recipe.preset(spec.recipe).key()


def test_an_unknown_name_names_the_valid_ones():
    with pytest.raises(InvalidChoiceError, match="valid: .*'fashion-mnist-v1'"):
        load_benchmark("fashion-mnist-v3")


def test_info_lists_each_embedded_name_with_its_state_recipe_and_summary(capsys):
    from robbench_plugin.cli import main

    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, spec in EMBEDDED_BENCHMARKS.items():
        (i,) = [k for k, line in enumerate(lines) if line.split()[:1] == [name] and "embedded:" in line]
        state = "not built in this installation" if name in BEING_BUILT else "installed"
        assert f"embedded: {state}" in lines[i] and f"recipe {spec.recipe}, table {spec.table_file}" in lines[i]
        assert lines[i + 1].strip() == spec.summary
    assert sum("(the default)" in line for line in lines) == 1
    assert [line.split()[0] for line in lines if "(the default)" in line] == [DEFAULT_BENCHMARK]
