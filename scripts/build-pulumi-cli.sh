#!/usr/bin/env bash
# Builds the real Pulumi CLI (`pulumi`), the Pulumi YAML language host (`pulumi-language-yaml`) and this project's
# stand-in Node.js language host (`pulumi-language-nodejs`, scripts/pulumi-cli/cmd) from the Go module proxy
# (wrapper modules scripts/pulumi-cli and scripts/pulumi-cli/yaml, whose go.sum files pin every module's hash), with
# the machine's Go, into a cache folder outside the repository, and prints that folder's bin directory (the only
# line on stdout; progress goes to stderr). Idempotent: a complete build for the same @pulumi/pulumi version and the
# same wrapper sources is reused; a new version or changed sources build into a new folder.
#
#   scripts/build-pulumi-cli.sh            build or reuse; print the bin dir
#   scripts/build-pulumi-cli.sh --update   after a change of @pulumi/pulumi in package-lock.json: pin the wrapper
#                                          module (scripts/pulumi-cli/go.mod, go.sum) to it; commit both files
#
# Environment: OIDC_GUARD_CACHE (default ~/.cache/oidc-guard), GOPROXY (Go's default). Exit codes: 0 ok,
# 2 the lockfile and scripts/pulumi-cli/go.mod disagree or the lockfile has no @pulumi/pulumi, 3 Go or Node missing,
# 4 the Go build failed. See docs/real-cli.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/scripts/pulumi-cli"
say() { printf 'build-pulumi-cli: %s\n' "$*" >&2; }
die() { code=$1; shift; say "$*"; exit "$code"; }

command -v node >/dev/null || die 3 "node is not on the PATH"
command -v go >/dev/null || die 3 "go is not on the PATH: install Go >= 1.25 (the CLI's go.mod asks for 1.25.x)"

version=$(node -e '
    const lock = require(process.argv[1]);
    const entry = (lock.packages || {})["node_modules/@pulumi/pulumi"];
    if (!entry || !/^\d+\.\d+\.\d+$/.test(entry.version || "")) process.exit(1);
    process.stdout.write(entry.version);' "$root/package-lock.json") ||
    die 2 "package-lock.json has no node_modules/@pulumi/pulumi entry with a plain x.y.z version"

# Sums checked against go.sum (sum.golang.org is not reachable from these machines); the machine's Go, never a
# downloaded toolchain.
export GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0

if [[ "${1:-}" == "--update" ]]; then
    say "pinning the wrapper module to github.com/pulumi/pulumi/{pkg,sdk}/v3 v$version"
    (cd "$src" && GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version" &&
        GOFLAGS=-mod=mod go mod tidy) || die 4 "go get/go mod tidy failed"
    say "updated scripts/pulumi-cli/go.mod and go.sum: review and commit them"
    exit 0
fi

for mod in pkg sdk; do
    grep -Eq "^[[:space:]]*github.com/pulumi/pulumi/$mod/v3 v$version\$" "$src/go.mod" ||
        die 2 "package-lock.json has @pulumi/pulumi $version but scripts/pulumi-cli/go.mod pins another github.com/pulumi/pulumi/$mod/v3; run scripts/build-pulumi-cli.sh --update and commit go.mod/go.sum"
done
yaml_version=$(awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/pulumi/pulumi-yaml") { print $(i + 1); exit } }' "$src/yaml/go.mod")
[[ -n "$yaml_version" ]] || die 2 "scripts/pulumi-cli/yaml/go.mod does not require github.com/pulumi/pulumi-yaml"

hash=$( (cd "$root" && cat scripts/build-pulumi-cli.sh scripts/pulumi-cli/go.mod scripts/pulumi-cli/go.sum \
    scripts/pulumi-cli/tools.go scripts/pulumi-cli/yaml/go.mod scripts/pulumi-cli/yaml/go.sum scripts/pulumi-cli/yaml/tools.go \
    $(find scripts/pulumi-cli/cmd -name '*.go' | LC_ALL=C sort)) | sha256sum | cut -c1-12)
cache_root="${OIDC_GUARD_CACHE:-$HOME/.cache/oidc-guard}/pulumi-cli"
out="$cache_root/$version-$hash"
bins=(pulumi pulumi-language-nodejs pulumi-language-yaml)

complete() { [[ -f "$out/complete" ]] && for b in "${bins[@]}"; do [[ -x "$out/bin/$b" ]] || return 1; done; }

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if command -v flock >/dev/null; then flock 9; fi   # one build at a time; a second caller waits and reuses it

if complete; then
    say "reusing $out (pulumi v$version)"
    echo "$out/bin"
    exit 0
fi

say "building pulumi v$version, pulumi-language-yaml $yaml_version and the stand-in pulumi-language-nodejs into $out"
say "(the first build downloads several hundred modules and compiles for some minutes)"
tmp="$out.partial.$$"
rm -rf "$tmp"
mkdir -p "$tmp/bin"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
cd "$src"
release_flags=(-mod=readonly -trimpath -tags osusergo,grpcnotrace)
go build "${release_flags[@]}" -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
    -o "$tmp/bin/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ./cmd/pulumi-language-nodejs >&2 ||
    die 4 "go build of pulumi / pulumi-language-nodejs failed (see above)"
# pulumi-yaml is built against its own pulumi SDK version, in its own wrapper module (scripts/pulumi-cli/yaml).
(cd yaml && go build "${release_flags[@]}" -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" \
    -o "$tmp/bin/" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml >&2) ||
    die 4 "go build of pulumi-language-yaml failed (see above)"
"$tmp/bin/pulumi" version >/dev/null || die 4 "the built pulumi does not run"
printf 'pulumi v%s\npulumi-yaml %s\nbuilt %s in %ss\n' "$version" "$yaml_version" "$(date -u +%FT%TZ)" "$(( $(date +%s) - start ))" >"$tmp/complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
say "built in $(( $(date +%s) - start ))s"
echo "$out/bin"
