#!/bin/bash
# The test harness itself: a unit suite and a CLI test pass with PGHOST,
# PGPORT, PGUSER, PGDATABASE and PGOPTIONS pointing elsewhere, because the
# run's cluster URL carries its host and port and the harness clears the
# rest of the caller's libpq environment.
. "$(dirname "$0")/lib.sh"
pg_setup
status=0 out="" err=""
units=$(dirname "${SCHEMA_BIN:-$LIB_TOP/build/rel/schema}")/tests
elsewhere=(env PGHOST=/nonexistent PGPORT=5999 PGUSER=nobody PGDATABASE=nowhere
	PGOPTIONS='-c statement_timeout=1 -c search_path=nowhere'
	SCHEMA_TEST_PG_URL="$SCHEMA_TEST_PG_URL")

case $SCHEMA_TEST_PG_URL in
*"&port="*) check "the cluster's URL carries its port" ;;
*) fail "no port in $SCHEMA_TEST_PG_URL" ;;
esac
if [ -x "$units/test_registry" ]; then
	expect_status 0 "${elsewhere[@]}" "$units/test_registry" --jobs 1 \
		&& check "a unit suite (test_registry) passes with PG* pointing elsewhere"
else
	echo "not ok no unit binary in $units (build them: make check)"
	failures=$((failures + 1))
fi
expect_status 0 "${elsewhere[@]}" bash "$LIB_TOP/tests/cli/t_state.sh" \
	&& check "a CLI test (t_state.sh) passes with PG* pointing elsewhere"
finish
