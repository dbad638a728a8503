#include "serial.h"
#include "nat_wire.h"
#include <stdio.h>
#include <string.h>

/** Reports per poll at most: the rest waits for the next turn of the loop (the UART buffers it). */
#define POLL_REPORTS 4

void ser_init(ser_core_t *c, const ser_ops_t *ops, void *ops_ctx, uint32_t baud, ser_emit_fn emit,
              void *emit_ctx) {
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->ops_ctx = ops_ctx;
    c->emit = emit;
    c->emit_ctx = emit_ctx;
    c->baud = baud;
    c->enabled = true;
    c->name = "bms";
}

static void reg_u8(ser_core_t *c, uint16_t code, uint8_t v) {
    c->emit(c->emit_ctx, code, &v, 1);
}

int ser_handle(ser_core_t *c, uint16_t code, const uint8_t *d, unsigned len) {
    switch (code) {
    case SER_CMD_SEND:
        if (len && c->ops->write(c->ops_ctx, d, len) < 0 && c->log)
            c->log("BMS UART: write failed");
        return 1;
    case NAT_SET(SER_REG_ENABLED):
        if (len >= 1)
            c->enabled = d[0] != 0;
        return 1;
    case NAT_SET(SER_REG_BAUD_RATE):
        if (len >= 4) {
            uint32_t b = nat_get_u32(d);
            if (b >= 300 && b <= 1000000 && c->ops->set_baud(c->ops_ctx, b) == 0)
                c->baud = b;
            else if (c->log) {
                char line[48];
                snprintf(line, sizeof(line), "BMS UART: baud rate %u refused", (unsigned)b);
                c->log(line);
            }
        }
        return 1;
    case NAT_GET(SER_REG_ENABLED):
        reg_u8(c, code, c->enabled);
        return 1;
    case NAT_GET(SER_REG_BAUD_RATE): {
        uint8_t p[4];
        nat_put_u32(p, c->baud);
        c->emit(c->emit_ctx, code, p, 4);
        return 1;
    }
    case NAT_GET(SER_REG_DATA_BITS):
        reg_u8(c, code, 8);
        return 1;
    case NAT_GET(SER_REG_STOP_BITS):
        reg_u8(c, code, 1);
        return 1;
    case NAT_GET(SER_REG_PARITY):
        reg_u8(c, code, 0);
        return 1;
    case NAT_GET(SER_REG_BUFFER_SIZE):
        reg_u8(c, code, 255);
        return 1;
    case NAT_GET(SER_REG_CONNECTION_NAME):
    case NAT_GET(SER_REG_INSTANCE_NAME):
        c->emit(c->emit_ctx, code, c->name, strlen(c->name));
        return 1;
    }
    return 0;
}

unsigned ser_poll(ser_core_t *c) {
    unsigned total = 0;
    uint8_t buf[NAT_MAX_PAYLOAD];
    for (int i = 0; i < POLL_REPORTS; i++) {
        int n = c->ops->read(c->ops_ctx, buf, sizeof(buf));
        if (n <= 0)
            break;
        // disabled: the bytes are read and dropped, as a closed port drops them
        if (c->enabled)
            c->emit(c->emit_ctx, SER_REP_RECEIVED, buf, n);
        total += n;
        if (n < (int)sizeof(buf))
            break;
    }
    uint32_t lost = c->ops->take_lost(c->ops_ctx);
    if (lost) {
        c->lost_total += lost;
        if (c->log) {
            char line[80];
            snprintf(line, sizeof(line), "BMS UART: receive overrun, bytes lost (%u times, %u since boot)",
                     (unsigned)lost, (unsigned)c->lost_total);
            c->log(line);
        }
    }
    return total;
}
