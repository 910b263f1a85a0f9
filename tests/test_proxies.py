import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from robbench_plugin.proxies import _per_sample_grads, compute_proxies, proxy_correlations  # noqa: E402
from robbench_plugin.train import build_model  # noqa: E402


def test_ntk_matches_a_per_sample_autograd_loop():
    torch.manual_seed(0)
    model = build_model(1000, 10, C=4, N=1, in_channels=1).eval()
    x = torch.rand(6, 1, 8, 8)
    J = _per_sample_grads(model, x)
    rows = []
    for i in range(len(x)):  # independent computation: one backward per sample
        g = torch.autograd.grad(model(x[i:i + 1]).sum(), list(model.parameters()), allow_unused=True)
        rows.append(torch.cat([(t if t is not None else torch.zeros_like(p)).reshape(-1)
                               for t, p in zip(g, model.parameters())]))
    J2 = torch.stack(rows)
    assert torch.allclose(J, J2, atol=1e-5)
    p = compute_proxies(1000, x, torch.zeros(6, dtype=torch.long), 10, C=4, N=1)
    assert p["ntk_trace"] == pytest.approx(float((J2.double() ** 2).sum()), rel=1e-4)
    assert p["ntk_cond"] >= 1.0


def test_input_independent_cell_has_no_jacobian_signal():
    x = torch.rand(6, 1, 8, 8)
    p = compute_proxies(1651, x, torch.zeros(6, dtype=torch.long), 10, C=4, N=1)  # all-none cell
    assert np.isnan(p["jacov"])  # the output ignores the input: no input Jacobian


def test_correlations_sign_and_shape():
    import pandas as pd

    df = pd.DataFrame({"clean": [0.1, 0.2, 0.3, 0.4], "robust": [0.4, 0.3, 0.2, 0.1],
                       "ntk_cond": [4.0, 3.0, 2.0, 1.0], "synflow": [1.0, 2.0, 3.0, 4.0]})
    c = proxy_correlations(df, proxies=("ntk_cond", "synflow")).set_index(["proxy", "target"])
    assert c.loc[("-ntk_cond", "clean"), "spearman"] == pytest.approx(1.0)
    assert c.loc[("synflow", "robust"), "kendall"] == pytest.approx(-1.0)


def test_partial_spearman_equals_correlation_of_rank_residuals():
    """Second implementation: Pearson correlation of the ranks of x and y after regressing each
    on the ranks of z."""
    from scipy.stats import rankdata

    from robbench_plugin.proxies import partial_spearman

    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    x = z + rng.normal(size=200)
    y = 0.8 * z + 0.3 * x + rng.normal(size=200)
    rx, ry, rz = (rankdata(v) for v in (x, y, z))

    def residual(a):
        return a - np.polyval(np.polyfit(rz, a, 1), rz)

    expected = np.corrcoef(residual(rx), residual(ry))[0, 1]
    assert partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-9)
    # a proxy that only sees z knows nothing about y beyond z
    assert abs(partial_spearman(z + 1e-3 * rng.normal(size=200), z + rng.normal(size=200), z)) < 0.2


def test_cli_correlations_from_a_saved_table(tmp_path, capsys):
    import pandas as pd

    from robbench_plugin.cli import main

    rng = np.random.default_rng(1)
    clean = rng.uniform(size=50)
    df = pd.DataFrame({"clean": clean, "robust": clean + rng.normal(0, 0.1, 50), "ntk_cond": rng.uniform(1, 9, 50),
                       "ntk_trace": -clean, "grad_norm": clean, "snip": clean, "synflow": clean, "jacov": clean})
    df.to_csv(tmp_path / "p.csv", index=False)
    assert main(["proxies", "--table", str(tmp_path / "p.csv"), "--plot", str(tmp_path / "p.png")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "p.png").stat().st_size > 1000
    synflow = next(line for line in out.splitlines() if line.startswith("synflow"))
    assert float(synflow.split()[1]) == pytest.approx(1.0)  # Spearman with clean: the same ranking
    pd.DataFrame({"clean": clean}).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["proxies", "--table", str(tmp_path / "bad.csv")]) == 2
    assert "lacks the columns ['robust']" in capsys.readouterr().err


def test_a_release_table_needs_its_images_folder(release_bench):
    """The release's CIFAR-10 networks are scored on CIFAR-10's images, which no package ships:
    without data_root the error says which files to point at, before any network is built."""
    from robbench_plugin.errors import DataFileError
    from robbench_plugin.proxies import proxy_table

    with pytest.raises(DataFileError, match="cifar10 needs data files"):
        proxy_table(release_bench, n=2, batch=2)
