#include "resetreason.h"
#include "nat_wire.h"
#include <stdio.h>
#include <string.h>

static const char *const chip_names[] = {
    "ESP_RST_UNKNOWN", "ESP_RST_POWERON", "ESP_RST_EXT", "ESP_RST_SW",
    "ESP_RST_PANIC", "ESP_RST_INT_WDT", "ESP_RST_TASK_WDT", "ESP_RST_WDT",
    "ESP_RST_DEEPSLEEP", "ESP_RST_BROWNOUT", "ESP_RST_SDIO", "ESP_RST_USB",
    "ESP_RST_JTAG", "ESP_RST_EFUSE", "ESP_RST_PWR_GLITCH", "ESP_RST_CPU_LOCKUP",
};

const char *rr_chip_name(rr_chip_t chip) {
    return (unsigned)chip < sizeof(chip_names) / sizeof(chip_names[0]) ? chip_names[chip]
                                                                        : chip_names[0];
}

uint8_t rr_from_chip(rr_chip_t chip) {
    switch (chip) {
    case RR_CHIP_POWERON:
    case RR_CHIP_EXT: // the EN pin (reset button): the ESP32-C3 reports it as power-on anyway
        return RR_POWER_ON;
    case RR_CHIP_SW:
    case RR_CHIP_DEEPSLEEP: // the runtime's ds.reboot() (target_reset()) is a 20 ms deep sleep
        return RR_SOFTWARE;
    case RR_CHIP_PANIC:
    case RR_CHIP_CPU_LOCKUP:
        return RR_PANIC;
    case RR_CHIP_INT_WDT:
    case RR_CHIP_TASK_WDT:
    case RR_CHIP_WDT:
        return RR_WATCHDOG;
    case RR_CHIP_BROWNOUT:
    case RR_CHIP_PWR_GLITCH:
        return RR_BROWNOUT;
    default:
        return RR_UNKNOWN;
    }
}

void rr_init(rr_core_t *c, rr_chip_t chip, rr_emit_fn emit, void *ctx) {
    memset(c, 0, sizeof(*c));
    c->chip = chip;
    c->emit = emit;
    c->ctx = ctx;
}

uint8_t rr_reason(const rr_core_t *c) {
    if (c->crash_seen)
        return RR_PANIC; // the program crashed and the runtime started it again
    if (c->acknowledged)
        return RR_PROGRAM_RESTART;
    return rr_from_chip(c->chip);
}

void rr_detail(const rr_core_t *c, char *out, unsigned size) {
    if (c->crash_seen)
        snprintf(out, size, "program crash (panic %u)", (unsigned)c->crash_code);
    else if (c->acknowledged)
        snprintf(out, size, "program restart");
    else
        snprintf(out, size, "%s", rr_chip_name(c->chip));
}

void rr_program_ended(rr_core_t *c, uint32_t code) {
    if (code != 0) {
        c->crash_seen = true;
        c->crash_code = code;
    }
}

void rr_handle(rr_core_t *c, uint16_t code, const uint8_t *data, unsigned len) {
    (void)data;
    (void)len;
    if (code == NAT_GET(RR_REG_REASON)) {
        uint8_t r = rr_reason(c);
        c->emit(c->ctx, code, &r, 1);
    } else if (code == NAT_GET(RR_REG_DETAIL)) {
        char d[64];
        rr_detail(c, d, sizeof(d));
        c->emit(c->ctx, code, d, strlen(d));
    } else if (code == RR_CMD_ACKNOWLEDGE) {
        c->acknowledged = true;
        c->crash_seen = false;
    }
}
