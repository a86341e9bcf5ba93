#!/usr/bin/env bash
# Step 4 of action.yml: fail the step on driftgate's exit code, as `fail-on`
# says.
#
#   0  passed                                        never fails
#   1  drift or a broken auth path (a FAIL)          fails when fail-on has 1
#   3  something could not be checked (an ERROR)     fails when fail-on has 3
#   2  usage or configuration error: nothing checked always fails
#   any other code (a crash, a signal)               always fails
#
# Inputs (environment): EXIT_CODE, FAIL_ON (comma or space separated exit
# codes among 1 and 3; empty or "none" for neither).
set -euo pipefail

code="${EXIT_CODE:?EXIT_CODE is not set: did the run step run?}"
fail_on="${FAIL_ON-1,3}"

fail_1=false
fail_3=false
set -f # split fail-on into words, but never expand a `*` in it
for c in ${fail_on//,/ }; do
  case "$c" in
    1) fail_1=true ;;
    3) fail_3=true ;;
    none) ;;
    *)
      echo "::error title=driftgate::fail-on takes exit codes 1 and 3 (comma separated) or none, not '$c'; exit 2 and crashes always fail"
      exit 2
      ;;
  esac
done

case "$code" in
  0)
    echo "driftgate passed"
    exit 0
    ;;
  1) what="drift or a broken auth path was found (FAIL)" fails="$fail_1" ;;
  3) what="something could not be checked (ERROR)" fails="$fail_3" ;;
  2)
    echo "::error title=driftgate::exit 2: usage or configuration error, nothing was checked"
    exit 2
    ;;
  *)
    echo "::error title=driftgate::driftgate exited $code: it crashed or was killed"
    exit 1
    ;;
esac

if [[ "$fails" == true ]]; then
  echo "::error title=driftgate::exit $code: $what"
  exit "$code"
fi
echo "::warning title=driftgate::exit $code: $what; the step passes (fail-on: ${fail_on:-none})"
