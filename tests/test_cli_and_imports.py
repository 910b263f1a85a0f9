import json
import subprocess
import sys

import pytest

from robbench_plugin.cli import main


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


def test_query_top_export(synthetic_release, capsys, tmp_path):
    args = ["--benchmark", "nas-robbench-201", "--data-dir", str(synthetic_release)]
    assert main(["query", "1000", "--metric", "val_pgd_3.0_acc", "--seed", "1", *args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["val_pgd_3.0_acc"] == 0.6680999994277954 and out["uid"] == 1000
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
