// Reset Reason service: esp_reset_reason() at boot, and the program restarts seen since.
#include "native.h"
#include "resetreason.h"
#include "esp_system.h"

struct srv_state {
    SRV_COMMON;
    rr_core_t core;
};

static srv_t *the_state;

static rr_chip_t chip_reason(void) {
    switch (esp_reset_reason()) {
    case ESP_RST_POWERON:
        return RR_CHIP_POWERON;
    case ESP_RST_EXT:
        return RR_CHIP_EXT;
    case ESP_RST_SW:
        return RR_CHIP_SW;
    case ESP_RST_PANIC:
        return RR_CHIP_PANIC;
    case ESP_RST_INT_WDT:
        return RR_CHIP_INT_WDT;
    case ESP_RST_TASK_WDT:
        return RR_CHIP_TASK_WDT;
    case ESP_RST_WDT:
        return RR_CHIP_WDT;
    case ESP_RST_DEEPSLEEP:
        return RR_CHIP_DEEPSLEEP;
    case ESP_RST_BROWNOUT:
        return RR_CHIP_BROWNOUT;
    case ESP_RST_SDIO:
        return RR_CHIP_SDIO;
    default:
        return RR_CHIP_UNKNOWN;
    }
}

static int emit(void *ctx, uint16_t code, const void *data, unsigned len) {
    srv_t *state = ctx;
    return native_send(state, state->service_index, code, data, len);
}

static void resetreason_process(srv_t *state) {
    (void)state;
}

static void resetreason_handle_packet(srv_t *state, jd_packet_t *pkt) {
    uint16_t code = pkt->service_command;
    if (code == NAT_GET(RR_REG_REASON) || code == NAT_GET(RR_REG_DETAIL) || code == RR_CMD_ACKNOWLEDGE)
        rr_handle(&state->core, code, pkt->data, pkt->service_size);
    else
        jd_send_not_implemented(pkt);
}

SRV_DEF(resetreason, RR_SERVICE_CLASS);

void native_resetreason_init(void) {
    SRV_ALLOC(resetreason);
    rr_init(&state->core, chip_reason(), emit, state);
    the_state = state;
    char d[48];
    rr_detail(&state->core, d, sizeof(d));
    DMESG("reset reason: %s", d);
}

void native_resetreason_program_ended(int code) {
    if (the_state)
        rr_program_ended(&the_state->core, (uint32_t)code);
}
