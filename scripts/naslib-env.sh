#!/usr/bin/env bash
# The NASLib environment (docs/naslib.md): NASLib is not on PyPI and its setup.py does not install on
# Python 3.11, so its source goes on PYTHONPATH and its requirements into a venv of their own.
#
#   bash scripts/naslib-env.sh NASLIB_SOURCE VENV_DIR
#
# NASLIB_SOURCE: a clone of github.com/automl/NASLib (commit 0b51bc1 is the tested one) or a .tar.gz
# snapshot of it that unpacks to NASLib/ (CI uses ../shared/vendor/NASLib-0b51bc18.tar.gz). The venv
# gets torch 2.14.1 + torchvision 0.29.1 (NASLib imports torchvision at import time), NASLib's
# requirements with numpy<2 (NASLib calls np.sum(generator)), scikit-learn<1.6 (NASLib's predictor
# evaluator passes squared=False to mean_squared_error) and pyarrow<19 (19+ needs numpy 2), and this
# package without dependencies. Prints the PYTHONPATH to export last.
set -euo pipefail
src="$1"
venv="$2"
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$src" ]; then  # a snapshot: unpack beside the venv
  mkdir -p "$venv.src"
  tar -xzf "$src" -C "$venv.src"
  src="$venv.src/NASLib"
fi
[ -d "$src/naslib" ] || { echo "naslib-env: $src holds no naslib/ package" >&2; exit 2; }
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch==2.14.1 torchvision==0.29.1
"$venv/bin/pip" install -q ConfigSpace networkx pyyaml fvcore scikit-learn lightgbm xgboost tqdm scipy pandas \
    pytorch-msssim transforms3d scikit-image nasbench_pytorch ngboost pybnn pyro-ppl grakel six tornado \
    seaborn matplotlib tensorwatch optuna optunahub moocore "pyarrow<19" platformdirs gdown pytest "numpy<2" \
    "scikit-learn<1.6"
"$venv/bin/pip" install -q --no-deps -e "$repo"
echo "$(cd "$src" && pwd)"
