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
