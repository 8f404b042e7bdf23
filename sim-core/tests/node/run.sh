#!/bin/sh
# Builds the native `mdsim` and the wasm `js` package, then runs the Node comparison on the
# example scenarios. Needs: the wasm32-unknown-unknown target, Node >= 18, and either
# wasm-pack 0.15.1 with wasm-bindgen-cli 0.2.130 on PATH (preferred), or wasm-bindgen-cli alone.
# Usage: sim-core/tests/node/run.sh [--bench] [--build-only]
# --build-only builds the package alone (release with --bench) and stops: `cargo xtask bench
# --only chromium` builds it this way before timing it in headless Chromium.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
pkg=$target/sim-core-pkg
cd "$root"
# Benchmarks need optimised code; the comparison alone does not (results are bit-identical in
# every profile), so it reuses the dev profile that `cargo test` already built.
case " $* " in
  *" --bench "*) profile=release ;;
  *) profile=dev ;;
esac
case " $* " in
  *" --build-only "*) build_only=yes ;;
  *) build_only=no ;;
esac
# `mdsim` is only for the comparison: a build of the package alone leaves it (and the native
# release build `cargo xtask bench` made with the examples) untouched.
if [ "$build_only" = yes ]; then
  :
elif [ "$profile" = release ]; then
  cargo build -p sim-core --bin mdsim --release
  mdsim=$target/release/mdsim
else
  cargo build -p sim-core --bin mdsim
  mdsim=$target/debug/mdsim
fi
if command -v wasm-pack >/dev/null 2>&1; then
  wasm-pack build sim-core --"$profile" --target web --mode no-install --out-dir "$pkg" \
    -- --no-default-features --features js
else
  dir=$([ "$profile" = release ] && echo release || echo debug)
  flag=$([ "$profile" = release ] && echo --release || true)
  cargo build -p sim-core --lib $flag --target wasm32-unknown-unknown --no-default-features --features js
  wasm-bindgen --target web --out-dir "$pkg" "$target/wasm32-unknown-unknown/$dir/sim_core.wasm"
fi
if [ "$build_only" = yes ]; then
  echo "built $pkg"
  exit 0
fi
node sim-core/tests/node/compare_events.mjs --pkg "$pkg" --mdsim "$mdsim" "$@" \
  scenarios/socal-scud-c.json scenarios/socal-salvo.json scenarios/catalog-tour.json
