// The standard Jacdac Serial service on the BMS UART: registers, `send`, and received bytes in
// order as `received` reports (236 bytes at most each). Overruns (bytes lost) are said on the console.
#pragma once
#include <stdint.h>
#include <stdbool.h>

#define SER_SERVICE_CLASS 0x11bae5c4 // Jacdac Serial (jacdac-ts SRV_SERIAL = 297461188)
#define SER_CMD_SEND 0x80
#define SER_REP_RECEIVED 0x80 // the spec's quirk: the same code as `send`
#define SER_REG_ENABLED 0x01
#define SER_REG_BAUD_RATE 0x80
#define SER_REG_DATA_BITS 0x81
#define SER_REG_STOP_BITS 0x82
#define SER_REG_PARITY 0x83
#define SER_REG_BUFFER_SIZE 0x84
#define SER_REG_CONNECTION_NAME 0x181
#define SER_REG_INSTANCE_NAME 0x109

typedef struct {
    /** Non-blocking: the bytes received so far, at most max. */
    int (*read)(void *ctx, uint8_t *buf, unsigned max);
    int (*write)(void *ctx, const uint8_t *data, unsigned len);
    int (*set_baud)(void *ctx, uint32_t baud);
    /** Overruns (hardware FIFO or driver buffer full: received bytes lost) since the last call. */
    uint32_t (*take_lost)(void *ctx);
} ser_ops_t;

typedef int (*ser_emit_fn)(void *ctx, uint16_t code, const void *data, unsigned len);

typedef struct {
    const ser_ops_t *ops;
    void *ops_ctx;
    ser_emit_fn emit;
    void *emit_ctx;
    void (*log)(const char *line);
    const char *name; // "bms"
    bool enabled;
    uint32_t baud;
    uint32_t lost_total;
} ser_core_t;

void ser_init(ser_core_t *c, const ser_ops_t *ops, void *ops_ctx, uint32_t baud, ser_emit_fn emit,
              void *emit_ctx);
/** Returns 1 when `code` is one of the service's, 0 otherwise (the caller answers not-implemented). */
int ser_handle(ser_core_t *c, uint16_t code, const uint8_t *data, unsigned len);
/** Moves received bytes into reports (call from the Jacdac loop); returns the bytes delivered. */
unsigned ser_poll(ser_core_t *c);
