#!/usr/bin/env bash
# Recompile every lock file in requirements/ from pyproject.toml (the allowed ranges) with uv.
#   update-locks.sh                  newest versions that pyproject.toml allows, everywhere
#   update-locks.sh --keep           keep the current pins where still allowed (after a pyproject edit)
#   update-locks.sh [--keep] ARGS    ARGS go to every `uv pip compile`, e.g. --keep --upgrade-package babel
# Every lock pins every package with the hashes of all its files, for CPython 3.11 on one OS:
#   pip.txt              pip itself, installed first everywhere
#   linux-runtime.txt    Linux, extras gtk                 (installer/linux/setup-dev.sh)
#   linux-dev.txt        Linux, extras gtk,test,build      (setup-dev.sh --test, tests/run.sh, build-bundle.sh)
#   windows-runtime.txt  Windows
#   windows-test.txt     Windows, extras test
#   windows-build.txt    Windows, extras build             (installer/windows/README.md)
#   macos-runtime.txt    macOS
#   macos-build.txt      macOS, extras build               (installer/macos/README.md, build-bundle.sh)
# Each lock also pins pyproject's [build-system] requires (setuptools), so that
# `pip install --no-deps --no-build-isolation -e .` needs nothing unpinned.
# Locks are compiled in the order of the compile lines at the end, each constrained by the ones
# before it: a package that two locks share has the same version in both (uv stops if it cannot).
# Uses uv $UV_VERSION: the one on PATH or in .venv if it is that version, else a throwaway copy from PyPI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
UV_VERSION=${UV_VERSION:-0.13.9}
PYTHON_VERSION=3.11

invocation="bash installer/update-locks.sh${*:+ $*}"
keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; shift; fi
extra_args=("$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

uv=""
for candidate in "${UV:-}" "$(command -v uv || true)" "$ROOT/.venv/bin/uv"; do
  if [[ -n "$candidate" && -x "$candidate" ]] && [[ "$("$candidate" --version)" == "uv $UV_VERSION"* ]]; then
    uv=$candidate; break
  fi
done
if [[ -z "$uv" ]]; then
  echo "Installing uv $UV_VERSION into a throwaway venv"
  "${PYTHON:-python3}" -m venv "$tmp/uv-venv"
  "$tmp/uv-venv/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
  uv="$tmp/uv-venv/bin/uv"
fi

# pyproject's [build-system] requires, one a line (the source of truth for the build backend).
build_requires=$("${PYTHON:-python3}" -c '
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["build-system"]["requires"]))')

mkdir -p requirements
done_locks=()

# compile NAME PLATFORM DESCRIPTION [--extra X ...]: requirements/NAME.txt from pyproject.toml
# (or, for NAME=pip, from "pip" alone), constrained by every lock compiled before it.
compile() {
  local name=$1 platform=$2 description=$3; shift 3
  local out="requirements/$name.txt" staged="$tmp/$name.txt" input
  local args=(--generate-hashes --annotation-style line --python-version "$PYTHON_VERSION" --python-platform "$platform")
  if [[ "$name" == pip ]]; then
    args=(- "${args[@]}"); input="pip"
  else
    args=(pyproject.toml - "${args[@]}" "$@"); input=$build_requires
  fi
  local c
  for c in ${done_locks[@]+"${done_locks[@]}"}; do args+=(-c "$c"); done
  # --keep: the current lock is uv's preference; otherwise a fresh resolution.
  if ((keep)) && [[ -f "$out" ]]; then cp "$out" "$staged"; fi
  printf '%s\n' "$input" | "$uv" pip compile --quiet --no-header "${args[@]}" ${extra_args[@]+"${extra_args[@]}"} -o "$staged"
  {
    echo "# $out: $description."
    echo "# CPython $PYTHON_VERSION; every package pinned, with the hashes of all the files of that release on PyPI."
    echo "# Made by \`$invocation\` (uv $UV_VERSION), do not edit by hand. It ran:"
    echo "#   uv pip compile ${args[*]}${extra_args[*]:+ ${extra_args[*]}}"
    echo "#   with on standard input: $(printf '%s\n' "$input" | paste -sd' ' -)"
    if [[ "$name" != pip ]]; then
      echo "#   (pyproject's [build-system] requires: then \`pip install --no-deps --no-build-isolation -e .\` needs nothing more)"
    fi
    if [[ "$name" != pip ]]; then
      echo "# The allowed ranges live in pyproject.toml: change them there, then run the command again."
    fi
    echo
    # The constraints (the locks before this one) are not a reason for a package: left out of "# via".
    sed -E -e 's@-c requirements/[a-z-]+\.txt(, )?@@g' -e 's@, *$@@' \
      -e 's@^( +# via) *$@\1 pyproject.toml [build-system] requires@' "$staged"
  } >"$out"
  done_locks+=("$out")
  echo "$out: $(grep -c '^[A-Za-z0-9]' "$out") packages"
}

compile pip           linux   "pip itself, for every OS: install it first (pure Python)"
compile linux-dev     linux   "Linux, development and tests (extras gtk, test, build)" --extra gtk --extra test --extra build
compile linux-runtime linux   "Linux, to run Vigie (extra gtk)" --extra gtk
compile windows-test  windows "Windows, tests (extra test)" --extra test
compile windows-build windows "Windows, the PyInstaller build (extra build)" --extra build
compile windows-runtime windows "Windows, to run Vigie"
compile macos-build   macos   "macOS, the PyInstaller build (extra build)" --extra build
compile macos-runtime macos   "macOS, to run Vigie"
