# How every integration script reports: "ok - NAME" or "FAIL - NAME" (with
# $detail below it when set), and last "N passed, N failed", which
# tests/summarize.py adds up. Source it; bash only.
passed=0 failed=0

pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /'
	return 0
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "${detail:-}"; fi
}

# contains TEXT PART: PART occurs in TEXT.
contains() { [[ $1 == *"$2"* ]]; }
# matches TEXT REGEX: a line of TEXT matches the extended REGEX.
matches() { grep -qE -- "$2" <<<"$1"; }

# finish: the summary line, and the exit status.
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
