// How a service's report reaches the runtime's Jacdac bus. jacdac-c's jd_send() packs packets into
// one frame whose 236 data bytes include every packet's 4-byte header, so it takes payloads of at
// most 232 bytes (a longer one makes it send an empty frame: the runtime panics in jd_queue_push).
// The contracts allow 236-byte payloads (a full `data` report is 3 + 233 bytes, a `received` report
// 236), as the VM's own packets have: such a report goes out as a frame of its own, after the
// packets packed so far, so the order on the bus is the order of the reports.
#pragma once
#include <stdint.h>

#define NAT_BUS_FRAME_DATA 236
/** The largest payload jd_send() packs into a frame. */
#define NAT_BUS_PACKED_MAX (NAT_BUS_FRAME_DATA - 4)

typedef struct {
    /** jd_send(): packs into the frame being filled (0, or -1 on failure) */
    int (*packed)(void *ctx, unsigned service_index, uint16_t code, const void *data, unsigned len);
    /** jd_tx_flush(): sends the frame being filled */
    void (*flush)(void *ctx);
    /** one packet in a frame of its own (jd_send_pkt()) */
    int (*whole)(void *ctx, unsigned service_index, uint16_t code, const void *data, unsigned len);
    void *ctx;
} nat_bus_t;

/** Sends one report (up to NAT_MAX_PAYLOAD bytes); -1 when it is longer or the bus refuses it. */
int nat_bus_report(const nat_bus_t *bus, unsigned service_index, uint16_t code, const void *data,
                   unsigned len);
