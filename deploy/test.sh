#!/usr/bin/env bash
# Installs what is missing, builds everything, runs the whole test suite.
#   deploy/test.sh            all tests (unit, engine, end-to-end, conformance)
#   deploy/test.sh -L e2e     only tests with a ctest label
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ow_install_packages
BUILD="${BUILD_DIR:-$OW_ROOT/build}"
ow_build "$BUILD" "${BUILD_TYPE:-Release}"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@"
