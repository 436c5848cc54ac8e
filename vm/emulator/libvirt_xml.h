/* A machine as a libvirt domain (vm export): the same configuration, and the
 * same decisions, that the emulator's command line is made of (qemu.h). */
#pragma once

#include "config/config.h"
#include "emulator/qemu.h"
#include "error.h"
#include "strbuf.h"
#include "strv.h"

struct libvirt_domain {
	const struct config *cfg;
	const char *name;	   /* the domain's name */
	const char *uuid;	   /* the domain's UUID, or NULL: libvirt makes one */
	enum qemu_network network; /* NAT: user networking; bridged: VM_NET_BRIDGE */
};

/* Writes the domain XML into xml. The words of VM_QEMU_EXTRA, VM_QEMU_VNC
 * and VM_QEMU_DISPLAY that have no element of their own are passed on in
 * <qemu:commandline> and added to unmapped, for the caller to warn about.
 * Fails when the configuration cannot be described (a variable that does
 * not split, an unknown accelerator or disk interface). */
int libvirt_domain_xml(const struct libvirt_domain *d, struct strbuf *xml, struct strv *unmapped,
		       struct error *err);

/* A saved state: an internal snapshot of the backing file (vm stop -s,
 * vm archive -s). */
struct libvirt_state {
	const char *name;
	long long created; /* seconds since the epoch, as qemu-img lists it */
};

/* The <domainsnapshot> that tells libvirt about the saved state, for
 * virsh snapshot-create --redefine; d->uuid must be the defined domain's.
 * A revert to it starts the emulator with -loadvm on the same devices. */
int libvirt_snapshot_xml(const struct libvirt_domain *d, const struct libvirt_state *state,
			 struct strbuf *xml, struct strv *unmapped, struct error *err);
