// Reset Reason (services/resetreason.md): why the running program was started, from the chip's own
// reset reason and what the server saw of program restarts since.
#pragma once
#include <stdint.h>
#include <stdbool.h>

#define RR_SERVICE_CLASS 0x1f3c2a91
#define RR_REG_REASON 0x180
#define RR_REG_DETAIL 0x181
#define RR_CMD_ACKNOWLEDGE 0x80

enum rr_reason {
    RR_UNKNOWN = 0,
    RR_POWER_ON = 1,
    RR_SOFTWARE = 2,
    RR_PANIC = 3,
    RR_WATCHDOG = 4,
    RR_PROGRAM_RESTART = 5,
    RR_BROWNOUT = 6,
};

/** The chip's reset reasons (ESP-IDF's esp_reset_reason_t, in our own numbering). */
typedef enum {
    RR_CHIP_UNKNOWN,
    RR_CHIP_POWERON,
    RR_CHIP_EXT,
    RR_CHIP_SW,
    RR_CHIP_PANIC,
    RR_CHIP_INT_WDT,
    RR_CHIP_TASK_WDT,
    RR_CHIP_WDT,
    RR_CHIP_DEEPSLEEP,
    RR_CHIP_BROWNOUT,
    RR_CHIP_SDIO,
    RR_CHIP_USB,
    RR_CHIP_JTAG,
    RR_CHIP_EFUSE,
    RR_CHIP_PWR_GLITCH,
    RR_CHIP_CPU_LOCKUP,
} rr_chip_t;

typedef int (*rr_emit_fn)(void *ctx, uint16_t code, const void *data, unsigned len);

typedef struct {
    rr_chip_t chip;
    bool acknowledged; // the program read the reason since the chip reset
    bool crash_seen; // a program crash since the last acknowledge
    uint32_t crash_code;
    rr_emit_fn emit;
    void *ctx;
} rr_core_t;

void rr_init(rr_core_t *c, rr_chip_t chip, rr_emit_fn emit, void *ctx);
/** The contract's reason for a chip reset reason. */
uint8_t rr_from_chip(rr_chip_t chip);
/** ESP-IDF's name of a chip reason ("ESP_RST_INT_WDT"). */
const char *rr_chip_name(rr_chip_t chip);
uint8_t rr_reason(const rr_core_t *c);
void rr_detail(const rr_core_t *c, char *out, unsigned size);
/** The runtime ended a program: code 0 is a restart asked for, anything else a crash. */
void rr_program_ended(rr_core_t *c, uint32_t code);
void rr_handle(rr_core_t *c, uint16_t code, const uint8_t *data, unsigned len);
