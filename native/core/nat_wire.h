// Little-endian packing helpers for Jacdac payloads (every field of our contracts is little-endian).
#pragma once
#include <stdint.h>
#include <string.h>

static inline uint16_t nat_get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t nat_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void nat_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void nat_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void nat_put_u64(uint8_t *p, uint64_t v) {
    nat_put_u32(p, (uint32_t)v);
    nat_put_u32(p + 4, (uint32_t)(v >> 32));
}

/** True when 16-bit sequence number a comes before b (wrapping), as the contracts define it. */
static inline int nat_seq_before(uint16_t a, uint16_t b) {
    uint16_t d = (uint16_t)(b - a);
    return d != 0 && d < 0x8000;
}

/** Largest payload of one Jacdac packet. */
#define NAT_MAX_PAYLOAD 236

/** Jacdac service command codes of register reads and writes. */
#define NAT_GET(reg) (0x1000 | (reg))
#define NAT_SET(reg) (0x2000 | (reg))
/** Our emit callbacks take events as 0x8000 | event code (reports and register values as is). */
#define NAT_EVENT(ev) (0x8000 | (ev))
#define NAT_IS_EVENT(code) (((code) & 0x8000) != 0)
