"""Running NASLib's discrete optimizers (RS, RE, LS, BANANAS, NPENAS) on the robust benchmark, unchanged."""
from __future__ import annotations

from typing import Any

from ...errors import InvalidChoiceError
from .space import RobustNasBench201SearchSpace


OPTIMIZERS = ("rs", "re", "ls", "bananas", "npenas")


def make_config(optimizer: str, epochs: int = 100, seed: int = 0, save_dir: str | None = None,
                config_file: str | None = None, **search: Any):
    """NASLib's default config for ``optimizer`` (optionally merged with a YAML file such as
    ``adapters/naslib/*.yaml``), with ``search.epochs`` = number of architectures queried."""
    import os
    import tempfile

    from naslib.utils import load_default_config

    if optimizer not in OPTIMIZERS:
        raise InvalidChoiceError("NASLib optimizer", optimizer, OPTIMIZERS)
    config = load_default_config()
    if config_file is not None:
        config.merge_from_file(config_file)
    config.optimizer = optimizer
    config.search.epochs = epochs
    config.search.seed = seed
    config.seed = seed
    config.search.checkpoint_freq = max(epochs + 1, 1000)
    config.search.predictor_type = search.pop("predictor_type", config.search.get("predictor_type", "mlp"))
    # NASLib's default fidelity (200, NAS-Bench-201's epoch count) would index past our tables'
    # recorded epochs; -1 = the final epoch.
    config.search.fidelity = search.pop("fidelity", -1 if config_file is None else config.search.fidelity)
    for key, value in search.items():
        setattr(config.search, key, value)
    config.save = save_dir or tempfile.mkdtemp(prefix="naslib-")
    os.makedirs(os.path.join(config.save, "search"), exist_ok=True)  # NASLib's Trainer writes checkpoints here
    return config


def _optimizer(config, dataset_api: dict):
    """NASLib's optimizer object for ``config.optimizer``, seeded and adapted to our search space."""
    import random

    import numpy as np
    from naslib import optimizers as O

    classes = {"rs": O.RandomSearch, "re": O.RegularizedEvolution, "ls": O.LocalSearch, "bananas": O.Bananas,
               "npenas": O.Npenas}
    random.seed(config.seed)
    np.random.seed(config.seed)
    opt = classes[config.optimizer](config)
    opt.adapt_search_space(RobustNasBench201SearchSpace(), dataset_api=dataset_api)
    return opt


def _search(opt, config):
    from naslib.defaults.trainer import Trainer

    trainer = Trainer(opt, config, lightweight_output=True)
    trainer.search(resume_from="", summary_writer=None, report_incumbent=False)
    return trainer


def run_optimizer(optimizer: str, dataset_api: dict, config=None, **config_kw: Any):
    """Run one NASLib discrete optimizer through NASLib's unchanged Trainer; returns
    ``(optimizer, trainer)`` (``optimizer.get_final_architecture()`` is the incumbent)."""
    config = config or make_config(optimizer, **config_kw)
    opt = _optimizer(config, dataset_api)
    return opt, _search(opt, config)


def evaluated_architectures(optimizer: str, dataset_api: dict, budget: int, seed: int = 0,
                            config_file: str | None = None, **search: Any) -> list[str]:
    """Run NASLib's ``optimizer`` for ``budget`` epochs through its unchanged Trainer and return
    the NB201 strings of the architectures it evaluated, in order.

    NASLib's discrete optimizers evaluate one architecture per epoch inside ``new_epoch``; only
    the ``VAL_ACCURACY`` queries made there are recorded (the Trainer's logging queries between
    epochs are not). ``robbench compare`` uses this to put NASLib's searchers on the same budget
    axis (full evaluations) as the other frameworks'."""
    import tempfile

    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="naslib-") as save_dir:  # NASLib's checkpoints and logs
        config = make_config(optimizer, epochs=budget, seed=seed, config_file=config_file, save_dir=save_dir,
                             **search)
        api = dict(dataset_api)
        opt = _optimizer(config, api)
        inner = opt.new_epoch

        def recording_new_epoch(epoch: int) -> None:
            api["_recording"] = log
            try:
                inner(epoch)
            finally:
                api["_recording"] = None

        opt.new_epoch = recording_new_epoch
        _search(opt, config)
    return log
