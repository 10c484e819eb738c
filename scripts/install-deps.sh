#!/usr/bin/env bash
# Installs what building, running and testing stratus needs on Debian 12. Idempotent: it only
# calls apt-get when a package is missing and npm only when the lock file changed.
#   install-deps.sh [--bench]        Debian packages (--bench: and the benchmarks' tools), then npm
#   install-deps.sh --system         Debian packages only
#   install-deps.sh --npm-start DIR  npm in the background (see below); --npm-wait DIR waits for it
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
MODE=${1:-}
if [ "$MODE" = "--bench" ]; then
  PACKAGES+=(wrk nginx-light curl bc linux-perf valgrind nats-server)
fi

if [ "$MODE" = "--npm-start" ] || [ "$MODE" = "--npm-wait" ]; then
  PACKAGES=()
fi
missing=()
for p in "${PACKAGES[@]+"${PACKAGES[@]}"}"; do
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

# npm packages used by the integration tests, each folder locked: tests/js (the AWS SDK for
# JavaScript v3, and aws-lambda-ric, whose install builds curl and aws-lambda-cpp from source: 3 of
# the 3.5 minutes), tests/cognito-js (amazon-cognito-identity-js), tests/browser (playwright-core
# for the hosted UI in Debian's Chromium), bench/cognito (cognito-local for the side-by-side
# benchmark), tests/iam-simulate (@cloud-copilot/iam-simulate for the IAM cross-check).
NPM_DIRS=(tests/js tests/cognito-js tests/browser bench/cognito tests/iam-simulate)

# True when every folder's node_modules matches its lock file (the stamp is the lock file that
# was installed).
npm_current() {
  local dir
  for dir in "${NPM_DIRS[@]}"; do
    if [ -f "$dir/package-lock.json" ] && ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.lock-stamp"; then
      return 1
    fi
  done
}

npm_install() {
  local dir
  for dir in "${NPM_DIRS[@]}"; do
    if [ -f "$dir/package-lock.json" ] && ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.lock-stamp"; then
      # Explicit returns: set -e does not reach into a function called as `npm_install || ...`.
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
      mkdir -p "$dir/node_modules" && cp "$dir/package-lock.json" "$dir/node_modules/.lock-stamp" || return 1
    fi
  done
}

# `make test` overlaps the npm installs with the C++ build (docs/PERFORMANCE.md "Build time"):
# --npm-start DIR runs them in the background, output in DIR/npm-install.log, holding a lock on
# DIR/npm-install.lock until they end; --npm-wait DIR waits for that lock, fails with the log if
# they failed, then installs whatever is still missing in the foreground.
case "$MODE" in
  --system)
    exit 0
    ;;
  --npm-start)
    state=${2:?"usage: $0 --npm-start DIR"}
    mkdir -p "$state"
    rm -f "$state/npm-install.status"
    if npm_current; then
      exit 0
    fi
    echo "install-deps: npm installs run in the background (log: $state/npm-install.log)"
    exec 9>"$state/npm-install.lock"
    flock 9
    # The child inherits descriptor 9 and with it the lock. A make above us must not hand its
    # jobserver to the native builds of aws-lambda-ric.
    (
      unset MAKEFLAGS MFLAGS MAKELEVEL
      rc=0
      npm_install || rc=$?
      echo "$rc" >"$state/npm-install.status"
    ) >"$state/npm-install.log" 2>&1 </dev/null &
    exit 0
    ;;
  --npm-wait)
    state=${2:?"usage: $0 --npm-wait DIR"}
    if [ -f "$state/npm-install.lock" ]; then
      flock "$state/npm-install.lock" true
    fi
    if [ -f "$state/npm-install.status" ] && [ "$(cat "$state/npm-install.status")" != 0 ]; then
      echo "install-deps: the background npm installs failed; their log ($state/npm-install.log):" >&2
      cat "$state/npm-install.log" >&2
      exit 1
    fi
    npm_install
    exit 0
    ;;
esac

npm_install
