#!/usr/bin/env bash
# Run the OptunaHub registry's checks on this registry package, with the registry's pinned tools and
# settings (pyproject.toml beside this script): ruff check, ruff format, mdformat (front matter), mypy,
# and the README header rules of its header-confirmation workflow. Usage: bash check.sh [VENV_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/.check-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "ruff==0.3.5" "mypy==1.9.0" "types-PyYAML" "mdformat==0.7.16" "mdformat-frontmatter" \
    "python-frontmatter"
fi
cd "$here"
pkg=benchmarks/nas_robbench_201
fail=0
run() { local name="$1"; shift; if "$@"; then echo "registry check: $name: passed"; else echo "registry check: $name: FAILED"; fail=1; fi; }
run "ruff check" "$venv/bin/ruff" check "$pkg"
run "ruff format" "$venv/bin/ruff" format --check "$pkg"
run "mdformat" "$venv/bin/mdformat" --check "$pkg/README.md"
run "mypy" "$venv/bin/mypy" "$pkg"
run "header" "$venv/bin/python" - "$pkg/README.md" <<'PY'
import sys

import frontmatter

post = frontmatter.load(sys.argv[1])
problems = []
for key in ("author", "title", "description", "license"):
    if not isinstance(post.get(key), str):
        problems.append(f"{key} must be a string")
for key in ("tags", "optuna_versions"):
    value = post.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key} must be a list of strings")
if post.get("license") != "MIT License":
    problems.append("license must be 'MIT License'")
for problem in problems:
    print(f"{sys.argv[1]}: {problem}")
sys.exit(1 if problems else 0)
PY
for f in LICENSE README.md __init__.py _problem.py example.py requirements.txt; do
  [ -f "$pkg/$f" ] || { echo "registry check: layout: $pkg/$f missing"; fail=1; }
done
exit "$fail"
