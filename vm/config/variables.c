#include "config/variables.h"

#define SETTING(n, d, s)                                                                           \
	{                                                                                          \
		n, d, VARIABLE_SETTING, false, s                                                   \
	}
#define MANDATORY(n, s)                                                                            \
	{                                                                                          \
		n, NULL, VARIABLE_SETTING, true, s                                                 \
	}
#define DERIVED(n, s)                                                                              \
	{                                                                                          \
		n, NULL, VARIABLE_DERIVED, false, s                                                \
	}

const struct variable variables[] = {
    MANDATORY("VM_CONFIG", "name of the per-machine configuration file (global vmrc: .vmrc)"),
    MANDATORY("VM_FMT", "disk image format and file extension (global vmrc: qcow2)"),
    MANDATORY("VM_SAVE_DELAY", "accepted for compatibility; vm waits for the real end of a "
			       "snapshot (global vmrc: 5)"),
    MANDATORY("VM_MACHINE_NAME", "machine name, used in file names"),
    MANDATORY("VM_MACHINE_ID", "two digits, 00-99, unique among running machines"),
    MANDATORY("VM_MACHINE_OWNER", "host user the machine belongs to"),
    SETTING("VM_MACHINE_USER", NULL, "guest user for ssh (default: VM_MACHINE_OWNER)"),
    SETTING("VM_MACHINE_MEM", "1024", "guest memory in MiB"),
    SETTING("VM_HOME", NULL, "machine directory (default: the current directory)"),
    SETTING("VM_HOME_OVERRIDES_CWD", NULL,
	    "yes: VM_HOME wins over a .vmrc in the current "
	    "directory"),
    SETTING("VM_LIB", NULL, "directory holding the global vmrc and shell library"),
    SETTING("VM_SSH_ATTEMPTS", "30", "ssh tries during vm start, 2 s apart at most"),
    SETTING("VM_DATEFMT", "%F %T", "strftime format of timestamps; empty: date's default"),
    SETTING("VM_LOG", NULL, "progress log, used when the file exists and is writable"),
    SETTING("VM_ERRLOG", NULL, "error log, used when the file exists and is writable"),
    SETTING("VM_USE_SNAPSHOTS", "yes", "no: one image NAME.FMT instead of base + backing"),
    SETTING("VM_NET_GUEST", NULL, "guest host name or address (default: VM_MACHINE_NAME)"),
    SETTING("VM_NET_HOST", "localhost", "host of the legacy TCP monitor"),
    SETTING("VM_NET_LISTEN", "127.0.0.1", "address the legacy TCP monitor listens on"),
    SETTING("VM_NET_PORT", NULL, "port of the legacy TCP monitor (default: 77<ID>)"),
    SETTING("VM_NET_BRIDGE", "br0", "bridge the guest's tap is attached to"),
    SETTING("VM_NET_FORWARD", NULL, "NAT: host ports forwarded to the guest, HOST:GUEST[/udp] ..."),
    SETTING("VM_NET_FORWARD_ADDR", "127.0.0.1", "NAT: host address the forwards listen on"),
    SETTING("VM_SNAPSHOT_SEEDNAME_DEFAULT", "seed", "default seed part of the file names"),
    SETTING("VM_SNAPSHOT_BASENAME_DEFAULT", "base", "default base part of the file names"),
    SETTING("VM_SNAPSHOT_BACKINGNAME_DEFAULT", "backing",
	    "default backing part of the file "
	    "names"),
    SETTING("VM_SNAPSHOT_SEEDNAME", NULL, "seed part of the file names"),
    SETTING("VM_SNAPSHOT_BASENAME", NULL, "base part of the file names"),
    SETTING("VM_SNAPSHOT_BACKINGNAME", NULL, "backing part of the file names"),
    SETTING("VM_QEMU", "qemu-system-x86_64", "the emulator"),
    SETTING("VM_QEMU_EXTRA", NULL, "extra emulator arguments (shell-like words)"),
    SETTING("VM_QEMU_DISPLAY", NULL, "passed as -display"),
    SETTING("VM_QEMU_VNC", NULL, "passed as -vnc"),
    SETTING("VM_QEMU_ACCEL", "auto", "auto, kvm or tcg"),
    SETTING("VM_DISK_IF", "ide", "disk interface; virtio recommended for new machines"),
    SETTING("VM_NET_MODEL", "e1000", "NIC model; virtio-net-pci recommended for new machines"),
    SETTING("VM_GUEST_AGENT", "no",
	    "yes: use the QEMU guest agent for suspend, power-off and "
	    "sync"),
    SETTING("VM_SSH_OPTS", NULL, "extra ssh options for guest access"),
    SETTING("VM_MONITOR", "unix", "unix, or tcp to add the legacy TCP monitor"),
    DERIVED("VM_SNAPSHOT_SEED_FILENAME", "NAME-SEEDNAME.FMT"),
    DERIVED("VM_SNAPSHOT_BASE_FILENAME", "NAME-BASENAME.FMT"),
    DERIVED("VM_SNAPSHOT_BACKING_FILENAME", "NAME-BACKINGNAME.FMT"),
    DERIVED("VM_IMAGE_FILENAME", "NAME.FMT, the single image used with VM_USE_SNAPSHOTS=no"),
    DERIVED("VM_NET_MAC", "the guest's MAC address, DE:AD:BE:EF:<ID>:11"),
    DERIVED("VM_CALLING_DIR", "the directory vm was called from"),
    DERIVED("VM_PARAMS", "the arguments given to a script"),
    DERIVED("VM_VERBOSE", "yes when vm was called with -v"),
    DERIVED("VM_BIN", "the vm program itself"),
    DERIVED("VM_FUNCTIONS", "the shell library scripts get (vm_echo, vm_ssh, ...)"),
};

const size_t variables_count = sizeof(variables) / sizeof(variables[0]);
