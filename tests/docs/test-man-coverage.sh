#!/bin/bash
# The man pages against the code: every command in vm's command table has a
# section in vm(1), every long option any vm command accepts (read from the
# option tables in the sources, old spellings included) appears in vm(1), and
# every variable of the variable table appears in vmrc(5), with each allowed
# value of a choice.
# Usage: test-man-coverage.sh VM-SOURCE-DIR VM.1.SCD VMRC.5.SCD
set -u
src=$1 vm1=$2 vmrc5=$3
passed=0 failed=0
check_in() { # WHAT WORD FILE PATTERN
	if grep -qE -- "$4" "$3"; then passed=$((passed + 1))
	else failed=$((failed + 1)); echo "FAIL - $1 $2 is missing from $(basename "$3")"; fi
}

commands=$(sed -n 's/^ *{"\([a-z-]*\)", cmd_[a-z_]*, ".*/\1/p' "$src/main.c")
[ -n "$commands" ] || { echo "FAIL - no commands found in $src/main.c"; exit 1; }
for c in $commands; do
	check_in "command" "$c" "$vm1" "^## $c\$"
done

# getopt_long tables: {"name", no_argument|required_argument|optional_argument, ...}
options=$(cat "$src"/cmd/*.c | grep -oE '\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' |
	sed 's/{"\([^"]*\)".*/\1/' | sort -u)
[ "$(wc -w <<<"$options")" -gt 10 ] || { echo "FAIL - option tables not found in $src"; exit 1; }
for o in $options; do
	check_in "option" "--$o" "$vm1" "\*--$o\*"
done

variables=$(grep -oE '(SETTING|MANDATORY|DERIVED)\("VM_[A-Z0-9_]+"' "$src/config/variables.c" |
	sed 's/.*("\(.*\)"/\1/' | sort -u)
[ "$(wc -w <<<"$variables")" -gt 20 ] || { echo "FAIL - variable table not found"; exit 1; }
for v in $variables; do
	check_in "variable" "$v" "$vmrc5" "\*$v\*"
done

# A choice's allowed values (ONE_OF in the table) are each named in vmrc(5).
choices=0
while IFS='|' read -r v words; do
	choices=$((choices + 1))
	for w in $words; do
		check_in "value $w of" "$v" "$vmrc5" "\\*$w\\*"
	done
done < <(tr '\n' ' ' <"$src/config/variables.c" |
	grep -oE '"VM_[A-Z0-9_]+", VARIABLE_ENUM,[^)]*ONE_OF\("[^"]*"' |
	sed -E 's/^"([^"]+)".*ONE_OF\("([^"]*)"/\1|\2/')
[ "$choices" -ge 3 ] || { echo "FAIL - no choices (ONE_OF) found in the variable table"; exit 1; }

echo "$(wc -w <<<"$commands") commands, $(wc -w <<<"$options") long options, $(wc -w <<<"$variables") variables checked"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
