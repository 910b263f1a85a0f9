"""The commands silence framework notices a user of them cannot act on and keep every other
warning: the filters on hand-made warnings, and a comparison with Optuna's experimental NSGA-III in
spawned workers, whose output (both file descriptors) shows no ExperimentalWarning."""
import warnings

import pytest

from robbench_plugin.framework_noise import quiet_framework_warnings


def _caught(*emit) -> list[str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_framework_warnings()
        for e in emit:
            e()
    return [str(w.message) for w in seen]


def test_filters_drop_framework_notices_and_keep_the_rest():
    def explicit(category, module, text):
        return lambda: warnings.warn_explicit(text, category, f"{module.replace('.', '/')}.py", 1, module=module)

    kept = _caught(
        lambda: warnings.warn("NSGAIIISampler is experimental (supported from v3.2.0). The interface can change "
                              "in the future.", UserWarning),
        explicit(FutureWarning, "optuna.samplers._tpe", "framework future"),
        explicit(DeprecationWarning, "syne_tune.optimizer.baselines", "framework deprecation"),
        explicit(FutureWarning, "robbench_plugin.objective", "ours"),
        explicit(DeprecationWarning, "optunatools", "not a framework module"),
        lambda: warnings.warn("a real problem", RuntimeWarning),
        lambda: warnings.warn("Foo is experimental and may change", UserWarning),
    )
    assert kept == ["ours", "not a framework module", "a real problem", "Foo is experimental and may change"]


def test_compare_with_nsga3_prints_no_experimental_warning(tmp_path, capfd):
    pytest.importorskip("optuna")
    from robbench_plugin.cli import main

    code = main(["compare", "--budget", "12", "--n-seeds", "2", "--workers", "2", "--searchers",
                 "random,optuna:nsga3", "--out", str(tmp_path / "cmp")])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert "ExperimentalWarning" not in out + err and "is experimental" not in out + err
    assert (tmp_path / "cmp" / "summary.md").is_file()
