# Loads vm's completion when a shell starts (bash-completion loads it only
# when vm is first completed otherwise), so that `systemctl start vm@<TAB>`
# offers the machines listed for boot.
# shellcheck source=/dev/null
[ -r "@COMPLETIONSDIR@/vm" ] && . "@COMPLETIONSDIR@/vm"
