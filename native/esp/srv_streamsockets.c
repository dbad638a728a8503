// Stream Sockets service: one FreeRTOS task owns the lwIP sockets and turns the select() loop of
// the core; commands reach it through a queue from the Jacdac loop, reports come back through
// another, sent by the Jacdac loop (jd_send may only be called there).
#include "native.h"
#include "sockets.h"
#include "freertos/task.h"
#include <stdlib.h>

#define INBOX_SIZE 2048
#define OUTBOX_SIZE 3072
#define TASK_STACK 4096
#define TASK_PRIORITY 4
#define SELECT_MS 10

struct srv_state {
    SRV_COMMON;
};

static srv_t *the_state;
static native_queue_t inbox, outbox;
static ss_core_t *core;

static int emit(void *ctx, uint16_t code, const void *data, unsigned len) {
    (void)ctx;
    int r = nat_queue_push(&outbox.q, code, data, len);
    native_wake_loop();
    return r;
}

static unsigned room(void *ctx) {
    (void)ctx;
    return nat_queue_room(&outbox.q);
}

static void socket_task(void *arg) {
    (void)arg;
    static uint8_t cmd[NAT_MAX_PAYLOAD];
    for (;;) {
        uint16_t code;
        int n;
        while ((n = nat_queue_peek(&inbox.q, &code, cmd)) >= 0) {
            nat_queue_pop(&inbox.q);
            ss_command_at(core, code, cmd, n, native_now_ms());
        }
        ss_step(core, native_now_ms(), SELECT_MS);
        native_mdns_poll();
    }
}

static void streamsockets_process(srv_t *state) {
    native_queue_flush(&outbox, state, state->service_index);
}

static void streamsockets_handle_packet(srv_t *state, jd_packet_t *pkt) {
    uint16_t code = pkt->service_command;
    uint32_t v;
    if ((code & 0xf000) == 0x1000 && ss_register(code & 0xfff, &v)) {
        uint8_t p[2];
        nat_put_u16(p, (uint16_t)v);
        unsigned len = (code & 0xfff) >= SS_REG_RETRANSMIT_TIMEOUT ? 2 : 1;
        native_send(state, state->service_index, code, p, len);
    } else if (code >= SS_CMD_LISTEN && code <= SS_CMD_RESET_ALL) {
        if (nat_queue_push(&inbox.q, code, pkt->data, pkt->service_size) != 0)
            native_log("sockets: command dropped (queue full); the client sends it again");
    } else {
        jd_send_not_implemented(pkt);
    }
}

SRV_DEF(streamsockets, SS_SERVICE_CLASS);

void native_streamsockets_init(void) {
    SRV_ALLOC(streamsockets);
    the_state = state;
    native_queue_init(&inbox, INBOX_SIZE);
    native_queue_init(&outbox, OUTBOX_SIZE);
    core = calloc(1, sizeof(ss_core_t));
    JD_ASSERT(core);
    ss_init(core, emit, room, NULL);
    core->log = native_log;
    xTaskCreate(socket_task, "natsock", TASK_STACK, NULL, TASK_PRIORITY, NULL);
}
