/*
 * zmon.h: reading a ZeroMQ socket monitor (zmq_socket_monitor), the same
 * way on the broker's and the client's side.
 */
#ifndef CARNET_ZMON_H
#define CARNET_ZMON_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The next pending event of the monitor socket mon, without waiting: its
 * number (ZMQ_EVENT_*) and value (an fd, an error or a status, by event).
 * False when none is pending.  Events too short to hold both are skipped.
 */
bool zmon_next(void *mon, uint16_t *event, uint32_t *value);

#endif
