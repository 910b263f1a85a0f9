import json
import subprocess
import sys

import pytest

from robbench_plugin.cli import main
from robbench_plugin.loader import DEFAULT_BENCHMARK


def test_import_pulls_no_framework_or_torch():
    code = ("import sys, robbench_plugin; from robbench_plugin import load_benchmark, Arch; "
            "import robbench_plugin.train.recipe; "
            "bad=[m for m in ('torch','optuna','syne_tune','naslib','lightgbm','ray','matplotlib','sklearn') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_info_runs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "15625 cells, 6466 isomorphism classes" in out


def test_query_top_export(synthetic_release, fixture_release, capsys, tmp_path):
    fixture = ["--benchmark", "nas-robbench-201", "--data-dir", str(fixture_release)]
    assert main(["query", "1000", "--metric", "val_pgd_3.0_acc", "--table-seed", "1", *fixture]) == 0
    out = json.loads(capsys.readouterr().out)  # the release reader's reference value (hand-written fixture)
    assert out["val_pgd_3.0_acc"] == 0.6680999994277954 and out["uid"] == 1000
    args = ["--benchmark", "nas-robbench-201", "--data-dir", str(synthetic_release)]
    assert main(["top", "--by", "robust", "-n", "3", *args]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    assert main(["top", "--pareto", "clean,robust", *args]) == 0
    assert "Pareto front" in capsys.readouterr().out
    assert main(["export", "--format", "csv", "--out", str(tmp_path / "x.csv"), *args]) == 0
    import pandas as pd

    df = pd.read_csv(tmp_path / "x.csv")
    assert len(df) == 6466 and {"uid", "arch", "val_acc", "params"} <= set(df.columns)


def test_cli_errors_are_clear(synthetic_release, capsys):
    args = ["--benchmark", "nas-robbench-201", "--data-dir", str(synthetic_release)]
    assert main(["query", "15625", *args]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["top", "--by", "accuracy", *args]) == 2
    assert "unknown metric 'accuracy'" in capsys.readouterr().err


def test_naslib_adapter_without_naslib_says_how_to_get_it():
    import importlib.util

    if importlib.util.find_spec("naslib") is not None:
        pytest.skip("NASLib importable here")
    with pytest.raises(ImportError, match="NASLib is not on PyPI"):
        import robbench_plugin.adapters.naslib  # noqa: F401


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md"])
def test_first_python_snippet_runs_offline(page, tmp_path, monkeypatch):
    """The first Python snippet of README and of the quickstart runs as written, with nothing
    downloaded (the embedded default), in an empty working directory that stays empty."""
    from .helpers import ROOT

    text = (ROOT / page).read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(snippet, f"{page} snippet", "exec"), namespace)
    bench = namespace["bench"]
    assert bench.name == DEFAULT_BENCHMARK and len(bench.uids) == 6466
    assert list(tmp_path.iterdir()) == []


def test_version_and_help_show_defaults(capsys):
    from robbench_plugin import __version__

    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"robbench-plugin {__version__}"
    assert main(["search", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for shown in ("trials of the study (default: 200)", "(TPE: lowest regret of Optuna's in docs/compare.md) (default: tpe)",
                  "(default: clean,robust)", "(default: robbench-search)"):
        assert shown in help_text


def test_info_reports_the_installed_extras(capsys):
    """Each extra is 'yes' exactly when one of its modules is importable (AutoAttack: pyautoattack
    or the authors' autoattack)."""
    import importlib.util

    assert main(["info"]) == 0
    lines = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()
             if line.startswith("  ") and "(extra" in line}
    expect = {"torch": ["torch"], "optuna": ["optuna"], "syne-tune": ["syne_tune"], "lightgbm": ["lightgbm"],
              "autoattack": ["pyautoattack", "autoattack"], "ray": ["ray"], "matplotlib": ["matplotlib"]}
    for label, modules in expect.items():
        have = any(importlib.util.find_spec(m) is not None for m in modules)
        assert lines[label] == ("yes" if have else "no"), label
