/* libFuzzer: vm-netd's request decoder (and vm's reply decoder), the very
 * functions the programs use, on arbitrary bytes. */
#include "protocol.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netd_request req;
	struct netd_reply reply;
	struct error err;
	if (netd_request_decode(data, size, &req, &err) == 0) {
		/* What decodes must be what the encoder would have made. */
		struct netd_request again;
		if (netd_request_init(&again, req.op, req.machine_id, req.bridge, req.flags,
				      req.queues, &err) < 0 ||
		    memcmp(&again, &req, sizeof(req)))
			__builtin_trap();
	}
	netd_reply_decode(data, size, &reply, &err);
	return 0;
}
