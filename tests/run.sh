#!/usr/bin/env bash
# Runs the whole TokenAdmin test suite on a fresh machine: installs the Debian packages the tests need when they
# are missing (Chromium for the browser tests, Dovecot for the mail tests, PostgreSQL for the several-nodes tests), runs
# every test project on SQLite, then the store, token provider, lease, refresh, config and functional-account tests a
# second time on a throw-away PostgreSQL server (tests/postgres-temp.sh), and prints one closing line
# "N passed, N failed, N skipped" counted from the TRX result files of both runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The mail tests start their own Dovecot (IMAP, POP3, submission, LMTP) on loopback ports; the packages' own service
# is never used (in a container policy-rc.d keeps it from starting; elsewhere it listens on the standard ports).
for pkg in dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-lmtpd; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# PostgreSQL: the tests start their own server (initdb in a temporary directory, loopback, a free port); the package's
# own cluster and service are never used.
dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed" || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages the tests need: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

results="$root/TestResults"
rm -rf "$results"
status=0
dotnet test TokenAdmin.sln --configuration Release --logger "trx" --results-directory "$results" "$@" || status=$?

# The same tests of the store, everything that leases, refreshes and saves tokens, and the mail fetcher (its index
# rows go in through SQL of its own), on PostgreSQL.
postgres_tests="FullyQualifiedName~TokenAdmin.Tests.Tokens|FullyQualifiedName~TokenAdmin.Tests.TokenProvider|FullyQualifiedName~TokenAdmin.Tests.Refresh|FullyQualifiedName~TokenAdmin.Tests.Oidc|FullyQualifiedName~TokenAdmin.Tests.Secrets|FullyQualifiedName~TokenAdmin.Tests.Cli|FullyQualifiedName~TokenAdmin.Tests.Pages|FullyQualifiedName~TokenAdmin.Tests.Mail"
if server=$(bash "$root/tests/postgres-temp.sh" start); then
  read -r pg_dir pg_port <<<"$server"
  trap 'bash "$root/tests/postgres-temp.sh" stop "$pg_dir"' EXIT
  echo "Running the PostgreSQL pass against 127.0.0.1:$pg_port"
  TOKENADMIN_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres" \
    dotnet test tests/TokenAdmin.Tests/TokenAdmin.Tests.csproj --configuration Release --no-build --filter "$postgres_tests" \
      --logger "trx;LogFilePrefix=postgres" --results-directory "$results" || status=$?
else
  echo "Could not start PostgreSQL for the PostgreSQL pass." >&2
  status=1
fi

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done

if [ "$files" -eq 0 ] && [ "$status" -ne 0 ]; then
  echo "No test results were written: the build or the test run failed before any test ran." >&2
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A crashed test host or a failed build counts as a failure even when no single test was marked failed.
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
