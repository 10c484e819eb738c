#!/usr/bin/env bash
# Installs what building, running and testing stratus needs on Debian 12. Idempotent: it only
# calls apt-get when a package is missing and npm only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and runtime libraries, the test clients (aws CLI v2, boto3, pytest) and bench tools.
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libssl-dev libsqlite3-dev libyaml-cpp-dev nlohmann-json3-dev libre2-dev
  libpugixml-dev libspdlog-dev libfmt-dev libcli11-dev libzip-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-boto3 python3-pytest awscli nodejs npm unzip zip
  libxmlsec1-dev python3-jwt xmlsec1 chromium chromium-driver
)

# API Gateway's JWT authorizer tests mint RS256 tokens with python3-jwt.
PACKAGES+=(python3-jwt python3-cryptography)

# The stratus binary allocates with jemalloc: 10-20% less server CPU than glibc's malloc on the
# DynamoDB, S3 and SQS request paths (docs/PERFORMANCE.md "Allocator").
PACKAGES+=(libjemalloc-dev)

# Step Functions' ItemReader reads Parquet pages compressed with Snappy.
PACKAGES+=(libsnappy-dev)

# aws-lambda-ric (tests/js: the Lambda test that runs a function on AWS's Node.js runtime
# interface client) builds its native addon and bundled libcurl with autotools at npm install.
PACKAGES+=(autoconf automake libtool)

# Benchmarks only (`make bench`): the load generator, the nginx peer, and helpers.
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=(wrk nginx-light curl bc linux-perf valgrind nats-server)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # A tool that is already on the machine from elsewhere (node, npm) counts as present.
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages used by the integration tests (the AWS SDK for JavaScript v3), locked.
if [ -f tests/js/package-lock.json ]; then
  stamp=tests/js/node_modules/.lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/js/package-lock.json "$stamp"; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/js/package-lock.json "$stamp"
  fi
fi

# Tests' own npm folders (amazon-cognito-identity-js; playwright-core for the hosted UI in
# Debian's Chromium; cognito-local for the side-by-side benchmark; @cloud-copilot/iam-simulate
# for the IAM cross-check), each locked.
for dir in tests/cognito-js tests/browser bench/cognito tests/iam-simulate; do
  if [ -f "$dir/package-lock.json" ]; then
    stamp="$dir/node_modules/.lock-stamp"
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      cp "$dir/package-lock.json" "$stamp"
    fi
  fi
done
