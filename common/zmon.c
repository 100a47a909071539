/*
 * zmon.c: see zmon.h.
 */
#include <string.h>

#include <zmq.h>

#include "zmon.h"

bool
zmon_next(void *mon, uint16_t *event, uint32_t *value)
{
	zmq_msg_t ev, addr;
	bool got = false;

	while (!got) {
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return false;
		}
		/* the second frame (the peer's address) is not used */
		zmq_msg_init(&addr);
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&addr, mon, 0);
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(event, zmq_msg_data(&ev), 2);
			memcpy(value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
			got = true;
		}
		zmq_msg_close(&addr);
		zmq_msg_close(&ev);
	}
	return true;
}
