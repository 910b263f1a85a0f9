"""Property-based tests (Hypothesis) that can fail: a valid generated input must succeed and agree
with an independent path (the table's long frame; query = query_many row = to_frame cell; the command
line prints the API's numbers), and an invalid one must raise the package's own error naming the
input. Validity is decided here, independently of the code under test: architectures from the
published NB201 strings (tests/data/nb201_meta.json.gz), metrics, seeds and fidelities from the rows
the table holds."""
from __future__ import annotations

import argparse
import gzip
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robbench_plugin import Arch, load_benchmark
from robbench_plugin.cli import main, make_parser
from robbench_plugin.cli_args import constraint, fractions, int_at_least, name_list
from robbench_plugin.costs import DATASET_SPECS
from robbench_plugin.errors import RobBenchError
from robbench_plugin.space import EDGES, NUM_ARCHS, OPS
from robbench_plugin.train.recipe import Recipe

from .conftest import DATA

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

with gzip.open(DATA / "nb201_meta.json.gz", "rt") as _fh:
    _META = json.load(_fh)["ids"]
PUBLISHED = {v["nb201-string"]: int(k) for k, v in _META.items()}  # the 15625 cells, by NB201's own index
UID_OF = {int(k): int(v["isomorph"]) for k, v in _META.items()}

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


def published_index(value) -> int | None:
    """NB201's index of ``value`` when it is a valid cell form, by the published facts alone: an
    int in range (not a bool), a published NB201 string, or six op names / op codes 0..4."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value) if 0 <= value < NUM_ARCHS else None
    if isinstance(value, str):
        return PUBLISHED.get(value)
    if isinstance(value, (list, tuple)) and len(value) == 6:
        # each edge on its own: an op name, or an op code 0..4 (not a bool); a list may mix them
        names = [v if isinstance(v, str) and v in OPS
                 else OPS[v] if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(OPS) else None
                 for v in value]
        if None in names:
            return None
        text = "+".join("|" + "|".join(f"{names[k]}~{src}" for k, (to, src) in enumerate(EDGES) if to == node) + "|"
                        for node in (1, 2, 3))
        return PUBLISHED[text]
    return None


def is_decimal(text: str) -> bool:
    """Whether ``text`` is an ASCII decimal number (``str.isdigit`` also accepts e.g. '²', which int() refuses)."""
    return text.isascii() and text.isdigit()


def names_input(message: str, value) -> bool:
    """Whether an error message names the bad input (as repr or as text)."""
    return repr(value) in message or str(value) in message


@SETTINGS
@given(st.one_of(st.text(max_size=120), arch_strings, st.integers(-10**6, 10**6), st.lists(op_like, max_size=8),
                 st.lists(op_names, min_size=6, max_size=6), st.lists(st.integers(0, 4), min_size=6, max_size=6),
                 st.lists(st.one_of(op_names, st.integers(0, 4)), min_size=6, max_size=6),
                 st.floats(allow_nan=True), st.none(), st.booleans()))
def test_arch_parse_accepts_exactly_the_published_cells(value):
    expected = published_index(value)
    if expected is None:
        with pytest.raises(RobBenchError):
            Arch.parse(value)
        return
    a = Arch.parse(value)
    assert a.index == expected and a.uid == UID_OF[expected] and a.string in PUBLISHED


@SETTINGS
@given(st.integers(0, NUM_ARCHS - 1))
def test_index_string_and_ops_round_trip(index):
    a = Arch.from_index(index)
    assert Arch.from_string(a.string).index == index
    assert Arch.from_ops(list(a.ops)).index == index
    assert Arch.from_ops([OPS.index(o) for o in a.ops]).index == index


@SETTINGS
@given(st.data())
def test_a_mutated_arch_string_is_a_cell_exactly_when_it_is_published(data):
    text = mutated(data.draw(arch_strings), data)
    if text not in PUBLISHED:
        with pytest.raises(RobBenchError) as err:
            Arch.from_string(text)
        assert names_input(str(err.value), text)
        return
    assert Arch.from_string(text).index == PUBLISHED[text]


@pytest.fixture(scope="module")
def bench():
    """The embedded digits table, named (the facts and metrics below are digits'), whatever the default."""
    return load_benchmark("digits")


@pytest.fixture(scope="module")
def facts(bench):
    """What the table holds, read from its long frame: {(uid, metric, fidelity, seed label): value},
    the metrics' fidelities and the seed labels."""
    f = bench.table.frame
    f = f[f["dataset"] == bench.dataset]
    values = dict(zip(zip(f.uid.to_numpy().tolist(), f.metric.tolist(), f.fidelity.to_numpy().tolist(),
                          f.seed.tolist()), f.value.to_numpy().tolist()))
    fidelities = f.groupby("metric")["fidelity"].unique().map(lambda a: sorted(int(x) for x in a)).to_dict()
    return Facts(values=values, fidelities=fidelities, seeds=sorted(f.seed.unique()))


class Facts(dict):
    """The table's facts (a dict with a short repr, for Hypothesis' reports)."""

    def __repr__(self) -> str:
        return f"<facts of {len(self['values'])} table values>"


def expected_value(bench, facts, index: int, metric: str, seed: str, fidelity: int | None) -> float:
    """The value the table holds for the class of ``index`` (NaN where it holds none), from the long
    frame: a seed label's value, or the mean over the labels present; costs from the cost model."""
    if metric in ("params", "flops"):
        from robbench_plugin.costs import all_costs

        return float(all_costs(bench.dataset, C=bench.table.meta.C, N=bench.table.meta.N)[metric][index])
    name = bench.aliases.get(metric, metric)
    fid = fidelity if fidelity is not None else facts["fidelities"][name][-1]
    uid = UID_OF[index]
    if seed == "mean":
        got = [facts["values"][k] for k in ((uid, name, fid, s) for s in facts["seeds"]) if k in facts["values"]]
        return float(np.mean(got)) if got else float("nan")
    return facts["values"].get((uid, name, fid, seed), float("nan"))


VALID_METRICS = ["clean", "robust", "params", "flops", "val_acc", "val_pgd_48.0_acc", "val_fgsm_24.0_acc", "time_s",
                 "train_loss"]


@st.composite
def valid_queries(draw):
    metric = draw(st.sampled_from(VALID_METRICS))
    seed = draw(st.sampled_from(["mean", "0", "1", "2"]))
    fidelity = None
    if metric not in ("params", "flops"):
        name = {"clean": "val_acc", "robust": "val_pgd_48.0_acc"}.get(metric, metric)
        fidelity = draw(st.one_of(st.none(), st.sampled_from({"val_acc": [1, 2, 4, 8]}.get(name, [1, 2, 4, 8]))))
    index = draw(st.one_of(st.integers(0, NUM_ARCHS - 1), st.sampled_from([0, 1, 10, 1462, 1651, 15624])))
    return index, metric, seed, fidelity


@SETTINGS
@given(valid_queries())
def test_a_valid_query_agrees_with_the_table_query_many_and_to_frame(bench, facts, q):
    index, metric, seed, fidelity = q
    expected = expected_value(bench, facts, index, metric, seed, fidelity)
    row = bench.query_many([index], [metric], seed=seed, fidelity=fidelity)
    frame = bench.to_frame([metric], seed=seed, fidelity=fidelity).set_index("uid")
    column = bench.resolve_metric(metric) if metric in frame.columns or bench.resolve_metric(metric) in frame.columns \
        else metric
    cell = frame.loc[UID_OF[index], column] if UID_OF[index] in frame.index else float("nan")
    many = float(row[column].iloc[0] if column in row.columns else row[metric].iloc[0])
    if np.isnan(expected):  # the table holds no value here: the scalar query says so, naming the cell
        with pytest.raises(RobBenchError, match=f"arch {index}"):
            bench.query(index, metric, seed=seed, fidelity=fidelity)
        assert np.isnan(many) and np.isnan(cell)
        return
    value = bench.query(index, metric, seed=seed, fidelity=fidelity)
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert many == value
    # to_frame has a row per class: accuracies are the class's, costs those of its representative cell
    assert cell == (value if metric not in ("params", "flops")
                    else pytest.approx(expected_value(bench, facts, UID_OF[index], metric, seed, None), rel=1e-9))
    if metric not in ("params", "flops", "time_s", "train_loss"):
        assert 0.0 <= value <= 1.0


junk = st.one_of(st.text(max_size=12), st.integers(-3, 10), st.none(), st.floats(allow_nan=True))


@SETTINGS
@given(metric=junk, seed=junk)
def test_an_invalid_metric_or_seed_is_our_error_naming_it(bench, facts, metric, seed):
    metric_ok = metric is None or isinstance(metric, str) and (metric in bench.aliases or metric in bench.metrics)
    seed_ok = isinstance(seed, str) and seed in bench.seeds or (isinstance(seed, int) and str(seed) in bench.seeds
                                                              and not isinstance(seed, bool))
    if metric_ok and seed_ok:
        return  # both valid: the agreement test covers it
    with pytest.raises(RobBenchError) as err:
        bench.query(1000, metric, seed=seed)
    assert names_input(str(err.value), metric if not metric_ok else seed)
    with pytest.raises(RobBenchError):
        bench.query_many([1000, 5], None if metric is None else [metric], seed=seed)


@SETTINGS
@given(st.one_of(st.integers(-10**6, -1), st.integers(NUM_ARCHS, 10**6), st.text(max_size=10), st.booleans()))
def test_an_invalid_arch_is_our_error_naming_it(bench, arch):
    if published_index(arch) is not None:
        return
    with pytest.raises(RobBenchError) as err:
        bench.query(arch, "robust")
    assert names_input(str(err.value), arch)


@SETTINGS
@given(st.one_of(st.integers(-3, 12), st.text(max_size=3)))
def test_a_fidelity_the_table_lacks_is_our_error(bench, facts, fidelity):
    if isinstance(fidelity, int) and fidelity in facts["fidelities"]["val_acc"]:
        assert bench.query(1000, "clean", fidelity=fidelity) == pytest.approx(
            expected_value(bench, facts, 1000, "clean", "mean", fidelity), rel=1e-6)
        return
    with pytest.raises(RobBenchError):
        bench.query(1000, "clean", fidelity=fidelity)


@SETTINGS
@given(st.lists(st.sampled_from(VALID_METRICS), min_size=1, max_size=4, unique=True),
       st.lists(st.integers(0, NUM_ARCHS - 1), min_size=1, max_size=6), st.sampled_from(["mean", "0"]))
def test_query_many_rows_equal_scalar_queries(bench, facts, metrics, archs, seed):
    df = bench.query_many(archs, metrics, seed=seed)
    assert len(df) == len(archs) and df["index"].tolist() == archs
    assert df["uid"].tolist() == [UID_OF[a] for a in archs]
    for i, a in enumerate(archs):
        for m in metrics:
            col = m if m in df.columns else bench.resolve_metric(m)
            expected = expected_value(bench, facts, a, m, seed, None)
            got = float(df[col].iloc[i])
            assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, rel=1e-6, abs=1e-7)


@SETTINGS
@given(name=st.one_of(st.sampled_from(["digits", "nas-robbench-201", "build", "cifar10"]), junk),
       dataset=st.one_of(st.sampled_from(["digits", "cifar10", None]), junk),
       mode=st.one_of(st.sampled_from(["tabular", "surrogate", "live"]), junk))
def test_load_benchmark_is_the_digits_table_or_our_error(bench, name, dataset, mode):
    # valid here without other files: the embedded digits table (dataset digits or default), tabular
    if name == "digits" and dataset in (None, "digits") and mode == "tabular":
        b = load_benchmark(name, dataset=dataset, mode=mode)
        assert b.dataset == "digits" and b.table.sha256() == bench.table.sha256()
        return
    if name == "digits" and dataset in (None, "digits") and mode == "surrogate":
        return  # the surrogate kind, tested in its own file
    if mode == "live" and name in ("digits", "nas-robbench-201") and (dataset is None or dataset in DATASET_SPECS):
        return  # live benchmarks train on demand, on any dataset (tested in test_live_*)
    with pytest.raises(RobBenchError) as err:
        load_benchmark(name, dataset=dataset, mode=mode)
    bad = mode if mode not in ("tabular", "surrogate", "live") else name if name not in (
        "digits", "nas-robbench-201", "build") else None
    if bad is not None:
        assert names_input(str(err.value), bad)


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
            "train", "build", "build-status"]
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
@given(valid_queries())
def test_a_valid_query_command_exits_0_with_the_apis_numbers(bench, capsys, q):
    index, metric, seed, fidelity = q
    argv = ["query", str(index), "--benchmark", "digits", "--metric", metric, "--table-seed", seed]
    if fidelity is not None:
        argv += ["--fidelity", str(fidelity)]
    code = main(argv)
    out, err = capsys.readouterr()
    try:
        expected = bench.query(index, metric, seed=seed, fidelity=fidelity)
    except RobBenchError as exc:  # no value in the table: the command says the same, one line, exit 2
        assert code == 2 and err.strip() == f"robbench query: error: {exc}"
        return
    assert code == 0, err
    printed = json.loads(out)
    key = metric if metric in printed else bench.resolve_metric(metric)
    assert printed["index"] == index and printed["uid"] == UID_OF[index] and printed[key] == expected


@SETTINGS
@given(st.sampled_from(["clean", "robust", "params", "val_fgsm_48.0_acc"]), st.integers(1, 12),
       st.sampled_from(["mean", "0"]))
def test_a_valid_top_command_lists_the_apis_best(bench, capsys, by, n, seed):
    assert main(["top", "--benchmark", "digits", "--by", by, "-n", str(n), "--table-seed", seed]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    metric = bench.resolve_metric(by)
    frame = bench.to_frame([metric], seed=seed).dropna(subset=[metric])
    best = frame.sort_values(metric, ascending=by == "params", kind="stable").head(n)
    assert len(lines) == n + 1
    printed = [float(line.split()[2]) for line in lines[1:]]
    assert printed == pytest.approx(best[metric].round(6).tolist(), abs=1e-6)


@SETTINGS
@given(st.sampled_from(["query 1000 --metric", "query 1000 --table-seed", "top --by", "top -n", "query", "top --pareto"]),
       st.one_of(junk.map(str), st.sampled_from(["", "-1", "0", "bogus", "clean,,robust"])))
def test_an_invalid_command_value_is_one_line_naming_it(bench, capsys, command, value):
    words = command.split()  # the digits table named, whatever the default (the validity rules are its own)
    argv = [words[0], "--benchmark", "digits", *words[1:], value]
    valid = {"--metric": lambda v: v in bench.aliases or v in bench.metrics,
             "--table-seed": lambda v: v in bench.seeds, "--by": lambda v: v in bench.aliases or v in bench.metrics,
             "-n": lambda v: is_decimal(v) and int(v) >= 1,
             "--pareto": lambda v: False}
    option = words[-1]
    if command == "query":
        ok = published_index(int(value) if is_decimal(value) else value) is not None
    else:
        ok = valid.get(option, lambda v: False)(value)
        if option == "--pareto":
            parts = value.split(",")
            ok = len(parts) >= 2 and len(set(parts)) == len(parts) and all(
                p in bench.aliases or p in bench.metrics for p in parts)
    code = main(argv)
    out, err = capsys.readouterr()
    if ok:
        return  # valid values are covered by the tests above
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"robbench {argv[0]}: error:")
    shown = [value, repr(value)] + [repr(part.strip()) for part in value.split(",")]  # list options strip names
    assert option in lines[0] or any(x in lines[0] for x in shown)
