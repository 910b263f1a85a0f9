"""Property-based tests (Hypothesis): every generated input to a parser, a query or the command line
gives a valid result or the package's own error (:class:`RobBenchError`), never another exception;
and what parses, parses to the right thing (round trips against the index order)."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robbench_plugin import Arch, load_benchmark
from robbench_plugin.cli import main, make_parser
from robbench_plugin.cli_args import constraint, fractions, int_at_least, name_list
from robbench_plugin.errors import RobBenchError
from robbench_plugin.space import EDGES, NUM_ARCHS, OPS
from robbench_plugin.train.recipe import Recipe

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

op_names = st.sampled_from(OPS)
op_like = st.one_of(op_names, st.integers(-3, 8), st.text(max_size=14), st.none(), st.booleans(),
                    st.floats(allow_nan=True), st.binary(max_size=4))
arch_strings = st.lists(op_names, min_size=6, max_size=6).map(
    lambda ops: "+".join("|" + "|".join(f"{ops[k]}~{src}" for k, (to, src) in enumerate(EDGES) if to == node) + "|"
                         for node in (1, 2, 3)))


def mutated(text: str, data) -> str:
    """``text`` with one character replaced, inserted or deleted."""
    pos = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    ch = data.draw(st.characters())
    if kind == "insert":
        return text[:pos] + ch + text[pos:]
    if kind == "delete":
        return text[:pos] + text[pos + 1:]
    return text[:pos] + ch + text[pos + 1:]


@SETTINGS
@given(st.one_of(st.text(max_size=120), arch_strings, st.integers(-10**6, 10**6), st.lists(op_like, max_size=8),
                 st.floats(allow_nan=True), st.none(), st.booleans()))
def test_arch_parse_gives_an_arch_or_our_error(value):
    try:
        a = Arch.parse(value)
    except RobBenchError:
        return
    assert 0 <= a.index < NUM_ARCHS and Arch.parse(a.string).index == a.index


@SETTINGS
@given(st.integers(0, NUM_ARCHS - 1))
def test_index_string_and_ops_round_trip(index):
    a = Arch.from_index(index)
    assert Arch.from_string(a.string).index == index
    assert Arch.from_ops(list(a.ops)).index == index
    assert Arch.from_ops([OPS.index(o) for o in a.ops]).index == index


@SETTINGS
@given(st.data())
def test_a_mutated_arch_string_is_a_cell_or_our_error(data):
    text = mutated(data.draw(arch_strings), data)
    try:
        a = Arch.from_string(text)
    except RobBenchError:
        return
    assert a.string == text  # only an exact NB201 string parses


@pytest.fixture(scope="module")
def bench():
    return load_benchmark()


names = st.one_of(st.sampled_from(["clean", "robust", "params", "flops", "val_acc", "val_pgd_48.0_acc", "time_s",
                                   "train_loss", "mean", "std", "0", "1", "2", "digits", "cifar10"]),
                  st.text(max_size=12), st.integers(-3, 10), st.none())


@SETTINGS
@given(arch=st.integers(-5, NUM_ARCHS + 5), metric=names, seed=names,
       fidelity=st.one_of(st.none(), st.integers(-2, 10), st.text(max_size=3)))
def test_query_gives_values_or_our_error(bench, arch, metric, seed, fidelity):
    try:
        value = bench.query(arch, metric, seed=seed, fidelity=fidelity)
    except RobBenchError:
        return
    values = value if metric is None else {metric: value}  # all metrics when none is named
    assert values and all(isinstance(v, float) for v in values.values())
    accuracies = [v for m, v in values.items() if str(m) in ("clean", "robust") or str(m).endswith("_acc")]
    assert all(0.0 <= v <= 1.0 for v in accuracies if v == v)


@SETTINGS
@given(st.lists(names, max_size=4), names)
def test_query_many_gives_a_frame_or_our_error(bench, metrics, seed):
    try:
        df = bench.query_many(np.arange(0, NUM_ARCHS, 997), metrics, seed=seed)
    except RobBenchError:
        return
    assert len(df) == len(range(0, NUM_ARCHS, 997))


@SETTINGS
@given(dataset=names, name=names, mode=names)
def test_load_benchmark_gives_a_benchmark_or_our_error(dataset, name, mode):
    try:
        b = load_benchmark(name, dataset=dataset, mode=mode)
    except RobBenchError:
        return
    assert b.dataset == dataset or dataset is None


recipe_fields = {
    "epochs": st.one_of(st.integers(-2, 60), st.floats(allow_nan=True), st.text(max_size=3), st.booleans()),
    "C": st.one_of(st.integers(-2, 64), st.none()), "N": st.integers(-2, 6),
    "batch_size": st.one_of(st.integers(-2, 512), st.booleans()),
    "lr_max": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-1, 2)),
    "momentum": st.floats(-1, 2), "weight_decay": st.floats(-1, 1),
    "train_attack": st.one_of(st.sampled_from(["pgd", "fgsm", "none"]), st.text(max_size=6)),
    "train_eps": st.one_of(st.floats(-10, 300), st.none()), "train_steps": st.integers(-1, 12),
    "eval_epochs": st.one_of(st.sampled_from(["final", "all", "log2"]), st.text(max_size=5),
                             st.lists(st.integers(-1, 60), max_size=4).map(tuple)),
    "eval_subset": st.one_of(st.none(), st.integers(-2, 2000)),
}


@SETTINGS
@given(st.fixed_dictionaries({}, optional=recipe_fields))
def test_recipe_fields_give_a_recipe_or_our_error(changes):
    try:
        r = Recipe.preset("quick").replace(**changes)
    except RobBenchError:
        return
    assert r.epochs >= 1 and r.key() == Recipe.from_dict(r.to_dict()).key()


@SETTINGS
@given(st.one_of(st.text(max_size=30), st.builds(lambda m, b: f"{m}<={b}", st.sampled_from(["params", "flops", "x"]),
                                                 st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                                           st.integers(), st.text(max_size=5)))))
def test_constraint_option_parses_or_says_why(text):
    try:
        metric, bound = constraint(text)
    except argparse.ArgumentTypeError:
        return
    assert text.replace(" ", "").startswith(f"{metric}<=") and float(text.split("<=")[1]) == bound


@SETTINGS
@given(st.text(max_size=20))
def test_count_fraction_and_name_options_parse_or_say_why(text):
    for parse in (int_at_least(1), fractions, name_list):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError:
            continue
        if parse is fractions:
            assert all(0 < v < 1 for v in value)
        elif parse is name_list:
            assert all(value) and len(set(value)) == len(value)
        else:
            assert value >= 1 and value == int(text)


COMMANDS = ["info", "download", "query", "top", "export", "search", "surrogate-eval", "report", "compare", "proxies",
            "train", "build"]
OPTIONS = ["--trials", "--budget", "--n-seeds", "--workers", "-n", "--n", "--splits", "--fractions", "--objectives",
           "--constraint", "--storage", "--sampler", "--benchmark", "--dataset", "--table-seed", "--fidelity",
           "--device", "--epochs", "--recipe", "--metric", "--by", "--pareto", "--searchers", "--mode", "--batch",
           "--n-models", "--limit", "--format", "--seed", "--arch"]
VALUES = st.one_of(st.sampled_from(["0", "-1", "1", "3", "abc", "", "0.5", "1.5", "clean,robust", "robust,,x",
                                    "params<=0.5", "params<=x", "sqlite:///", "nope://", "cuda", "cuda:x", "cpu",
                                    "digits", "build", "mean", "7", "tiny", "csv", "random,foo", "nsga2"]),
                   st.text(max_size=8))


@SETTINGS
@given(st.sampled_from(COMMANDS), st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=4))
def test_argument_parsing_gives_a_namespace_or_a_clean_exit(command, pairs):
    argv = [command] + [x for pair in pairs for x in pair]
    try:
        make_parser().parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 2


@SETTINGS
@given(st.sampled_from(["query 1000", "query", "top", "top --pareto", "export --format csv --out"]),
       st.lists(st.tuples(st.sampled_from(["--metric", "--fidelity", "--table-seed", "--by", "-n", "--dataset",
                                           "--benchmark", "--pareto"]), VALUES), max_size=3))
def test_reading_commands_exit_0_or_2(tmp_path_factory, capsys, command, pairs):
    argv = command.split() + [x for pair in pairs for x in pair]
    if argv[-1] == "--out":
        argv.append(str(tmp_path_factory.mktemp("export") / "x.csv"))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help or a bad option value
        code = exc.code
    capsys.readouterr()
    assert code in (0, 2)
