#!/usr/bin/env bash
# Release check: what a user of the published packages gets, proved from the tarballs themselves.
# 1. build every package (`pnpm build`, turbo);
# 2. pack every published package (`pnpm pack`; its `prepack` builds it again, as a publish from a fresh clone does);
# 3. lint each tarball: publint --strict, attw (types resolve as published), LICENSE/README present, README links;
# 4. install all tarballs with plain npm into a temporary project outside the workspace (registry deps from npm);
# 5. type-check one README example per package with the installed typescript against the installed packages
#    (never the workspace sources), then run it;
# 6. run the installed CLI: `npx ziplm --help` and its README example `ziplm check`.
# Any failure stops the script with a message naming the package and the step.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export TURBO_TELEMETRY_DISABLED=1 ORT_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1
# onnxruntime-node's install script downloads CUDA libraries (unreachable offline, and unneeded: its npm package
# already holds the CPU binaries); every README that installs it says to set this.
export ONNXRUNTIME_NODE_INSTALL=skip

section() { printf '\n--- pack-check: %s (%s) ---\n' "$1" "$(date -u +%H:%M:%S)"; }
fail() { printf 'pack-check FAILED: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ziplm-pack-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
case "$WORK/" in "$ROOT"/*) fail "the temporary project $WORK is inside the workspace $ROOT" ;; esac
TARBALLS="$WORK/tarballs"
PROJECT="$WORK/project"
mkdir -p "$TARBALLS" "$PROJECT/examples"

# Every package under packages/ that is not private, as "<directory> <name>".
mapfile -t PUBLISHED < <(node -e '
  const { readdirSync, readFileSync, existsSync } = require("node:fs");
  for (const dir of readdirSync("packages").sort()) {
    const file = `packages/${dir}/package.json`;
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    if (!pkg.private) console.log(`${dir} ${pkg.name}`);
  }')
[ "${#PUBLISHED[@]}" -gt 0 ] || fail "no published package found under packages/"

# The README example each package's check runs (relative to the package; the README shows this file). The CLI's
# README example is a command, run in step 6.
readme_example() {
  case "$1" in
    cli) echo "" ;;
    onnx) echo "examples/quickstart.ts" ;;
    hessian) echo "scripts/example.ts" ;;
    *) echo "examples/readme.ts" ;;
  esac
}

section "build (pnpm build, the packages)"
# The docs site builds in its own CI step; here only what is published.
pnpm build --filter='./packages/*'

section "pack"
for entry in "${PUBLISHED[@]}"; do
  read -r dir name <<<"$entry"
  (cd "packages/$dir" && pnpm pack --pack-destination "$TARBALLS" >"$WORK/pack-$dir.log" 2>&1) ||
    { cat "$WORK/pack-$dir.log" >&2; fail "$name: pnpm pack"; }
done
ls -l "$TARBALLS"

tarball() { local base; base=$(echo "${1#@}" | tr / -); ls "$TARBALLS/$base"-[0-9]*.tgz; }

section "lint the tarballs (publint --strict, attw, contents)"
for entry in "${PUBLISHED[@]}"; do
  read -r dir name <<<"$entry"
  tgz=$(tarball "$name")
  echo "$name: $(du -h "$tgz" | cut -f1) packed"
  pnpm exec publint run "$tgz" --strict || fail "$name: publint --strict"
  # The tarball just packed stands for `attw --pack` (which would pack, and so build, a third time).
  # --profile esm-only: every package is ESM only ("type": "module", no `require` condition) by design, for
  # Node >= 20; without it attw reports that CommonJS `require` resolves to ESM, which is that design.
  pnpm exec attw "$tgz" --profile esm-only --format table-flipped || fail "$name: attw"
  listing=$(tar -tzf "$tgz")
  for required in package/LICENSE package/README.md package/package.json; do
    grep -qx "$required" <<<"$listing" || fail "$name: $required is not in the tarball"
  done
  # Every relative link of the README must point at a file the tarball ships.
  node -e '
    const [readme, listing] = [require("node:fs").readFileSync(0, "utf8"), process.argv[1].split("\n")];
    const files = new Set(listing.map((f) => f.replace(/^package\//, "")));
    const dirs = new Set(listing.flatMap((f) => f.replace(/^package\//, "").split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
    const missing = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1].split("#")[0])
      .filter((link) => link && !/^[a-z][a-z0-9+.-]*:/i.test(link))
      .map((link) => link.replace(/^\.\//, "").replace(/\/$/, ""))
      .filter((link) => !files.has(link) && !dirs.has(link));
    if (missing.length > 0) { console.error(`README links to files the tarball lacks: ${missing.join(", ")}`); process.exit(1); }
  ' "$listing" <"packages/$dir/README.md" || fail "$name: README links"
done

section "install the tarballs with npm into $PROJECT"
TS_VERSION=$(node -p 'require("typescript/package.json").version')
TYPES_NODE_VERSION=$(node -p 'require("@types/node/package.json").version')
cat >"$PROJECT/package.json" <<'EOF'
{ "name": "ziplm-pack-check", "private": true, "type": "module" }
EOF
mapfile -t ALL_TARBALLS < <(ls "$TARBALLS"/*.tgz)
(cd "$PROJECT" && npm install --no-audit --no-fund "${ALL_TARBALLS[@]}" "typescript@$TS_VERSION" "@types/node@$TYPES_NODE_VERSION") ||
  fail "npm install of the tarballs"
# Each @ziplm package must be installed once, from its tarball: a second copy would mean npm fetched one from the
# registry instead of using the tarball.
node -e '
  const { readdirSync } = require("node:fs");
  const { join } = require("node:path");
  const copies = new Map();
  // Every node_modules folder of the tree, depth first; a @scope folder holds its packages one level down.
  const visit = (nodeModules) => {
    let entries;
    try { entries = readdirSync(nodeModules, { withFileTypes: true }); } catch { return; }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name === ".bin") continue;
      const packages = entry.name.startsWith("@")
        ? readdirSync(join(nodeModules, entry.name)).map((p) => [`${entry.name}/${p}`, join(nodeModules, entry.name, p)])
        : [[entry.name, join(nodeModules, entry.name)]];
      for (const [name, path] of packages) {
        if (name.startsWith("@ziplm/")) copies.set(name, (copies.get(name) ?? 0) + 1);
        visit(join(path, "node_modules"));
      }
    }
  };
  visit(process.argv[1]);
  const expected = process.argv.slice(2);
  const problems = [];
  for (const name of expected) if (copies.get(name) !== 1) problems.push(`${name}: ${copies.get(name) ?? 0} copies`);
  for (const name of copies.keys()) if (!expected.includes(name)) problems.push(`${name}: installed but not packed here`);
  if (problems.length > 0) { console.error(problems.join("\n")); process.exit(1); }
  console.log(`one copy of each of the ${expected.length} @ziplm packages, from the tarballs`);
' "$PROJECT/node_modules" $(printf '%s\n' "${PUBLISHED[@]}" | cut -d' ' -f2) || fail "installed @ziplm packages"

section "README examples: type-check against the installed packages"
for entry in "${PUBLISHED[@]}"; do
  read -r dir name <<<"$entry"
  example=$(readme_example "$dir")
  [ -n "$example" ] || continue
  [ -f "packages/$dir/$example" ] || fail "$name: README example packages/$dir/$example is missing"
  cp "packages/$dir/$example" "$PROJECT/examples/$dir.ts"
done
# A consumer's settings: no `@ziplm/source` condition, so every import resolves to the published dist/ and its types.
# skipLibCheck as in the workspace (tsconfig.base.json): the examples are checked, not third-party declarations.
cat >"$PROJECT/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023", "DOM"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "verbatimModuleSyntax": true,
    "skipLibCheck": true,
    "types": ["node"],
    "rootDir": "examples",
    "outDir": "build"
  },
  "include": ["examples"]
}
EOF
(cd "$PROJECT" && npx --no-install tsc -p tsconfig.json) || fail "type-checking the README examples against the installed packages"

section "README examples: run"
for js in "$PROJECT"/build/*.js; do
  example=$(basename "$js" .js)
  echo "> node build/$example.js"
  (cd "$PROJECT" && timeout 300 node "build/$example.js") || fail "@ziplm/$example: its README example exited with $?"
done

section "the installed CLI"
(cd "$PROJECT" && npx --no-install ziplm --help) || fail "npx ziplm --help"
(cd "$PROJECT" && timeout 300 npx --no-install ziplm check --model tiny-bert --json) || fail "npx ziplm check --model tiny-bert --json"

section "passed: ${#PUBLISHED[@]} packages packed, linted, installed with npm and exercised"
