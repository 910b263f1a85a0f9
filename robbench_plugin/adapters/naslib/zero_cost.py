"""NASLib's zero-cost predictors on the package's networks."""
from __future__ import annotations


from ...errors import check_choice


# NASLib's ZeroCost methods that run on any torch network on a CPU. Left out: "nwot" (NASLib's
# implementation calls .view on a non-contiguous tensor of our cells) and "zen" (needs NASLib's
# own graph method forward_before_global_avg_pool).
ZERO_COST_METHODS = ("synflow", "grad_norm", "snip", "jacov", "fisher", "grasp", "epe_nas", "plain", "l2_norm")


def zero_cost_scores(model, x, y, num_classes: int, methods: tuple[str, ...] = ZERO_COST_METHODS) -> dict[str, float]:
    """Scores of NASLib's ``ZeroCost`` predictor (unchanged) for an untrained torch network on the
    batch ``(x, y)``, one copy of ``model`` per method. NASLib's conventions apply: ``synflow``
    is log-scaled, NaN/inf scores become -1e8."""
    import copy

    import torch.nn.functional as F
    from naslib.predictors.zerocost import ZeroCost

    for method in methods:
        check_choice("NASLib zero-cost method", method, ZERO_COST_METHODS)
    out = {}
    for method in methods:
        net = copy.deepcopy(model)
        net.get_loss_fn = lambda: F.cross_entropy  # what ZeroCost.query asks a NASLib graph for
        net.num_classes = num_classes
        out[method] = float(ZeroCost(method_type=method).query(net, dataloader=[(x, y)]))
    return out
