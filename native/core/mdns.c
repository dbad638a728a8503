#include "mdns.h"
#include "nat_wire.h"
#include <string.h>

static uint16_t be16(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}
static void put_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static char lower(char ch) {
    return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
}

/** Reads a (possibly compressed) name at *off into "a.b.c" form; -1 when malformed. */
static int read_name(const uint8_t *q, unsigned qlen, unsigned *off, char *out, unsigned out_max) {
    unsigned pos = *off, o = 0, jumps = 0;
    bool jumped = false;
    for (;;) {
        if (pos >= qlen)
            return -1;
        uint8_t l = q[pos];
        if (l == 0) {
            if (!jumped)
                *off = pos + 1;
            break;
        }
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= qlen || ++jumps > 8)
                return -1;
            if (!jumped)
                *off = pos + 2;
            jumped = true;
            pos = ((l & 0x3f) << 8) | q[pos + 1];
            continue;
        }
        if (l > 63 || pos + 1 + l > qlen || o + l + 2 > out_max)
            return -1;
        if (o)
            out[o++] = '.';
        for (unsigned i = 0; i < l; i++)
            out[o++] = lower((char)q[pos + 1 + i]);
        pos += 1 + l;
    }
    out[o] = 0;
    return 0;
}

static unsigned put_name(uint8_t *out, const char *hostname) {
    unsigned hl = strlen(hostname), o = 0;
    out[o++] = (uint8_t)hl;
    memcpy(out + o, hostname, hl);
    o += hl;
    out[o++] = 5;
    memcpy(out + o, "local", 5);
    o += 5;
    out[o++] = 0;
    return o;
}

unsigned mdns_answer(const uint8_t *q, unsigned qlen, uint16_t src_port, const char *hostname,
                     const uint8_t ip[4], uint8_t *out, unsigned out_max, bool *unicast) {
    if (qlen < 12 || (q[2] & 0x80)) // too short, or a response
        return 0;
    unsigned hl = strlen(hostname);
    if (hl < 1 || hl > 63 || out_max < 12 + 2 * (hl + 8) + 14)
        return 0;
    char want[80];
    for (unsigned i = 0; i < hl; i++)
        want[i] = lower(hostname[i]);
    memcpy(want + hl, ".local", 7);
    uint16_t qd = be16(q + 4);
    unsigned off = 12;
    bool legacy = src_port != MDNS_PORT;
    for (unsigned i = 0; i < qd; i++) {
        char name[256];
        if (read_name(q, qlen, &off, name, sizeof(name)) < 0 || off + 4 > qlen)
            return 0;
        uint16_t type = be16(q + off), cls = be16(q + off + 2);
        off += 4;
        if (strcmp(name, want) != 0 || (type != 1 && type != 255) || (cls & 0x7fff) != 1)
            continue;
        *unicast = legacy || (cls & 0x8000);
        unsigned o = 0;
        put_be16(out, legacy ? be16(q) : 0); // a legacy resolver matches the answer by its id
        put_be16(out + 2, 0x8400); // response, authoritative
        put_be16(out + 4, legacy ? 1 : 0);
        put_be16(out + 6, 1);
        put_be16(out + 8, 0);
        put_be16(out + 10, 0);
        o = 12;
        if (legacy) { // the question again, as a unicast DNS answer carries it
            o += put_name(out + o, hostname);
            put_be16(out + o, 1);
            put_be16(out + o + 2, 1);
            o += 4;
        }
        o += put_name(out + o, hostname);
        put_be16(out + o, 1); // A
        put_be16(out + o + 2, legacy ? 1 : 0x8001); // IN, cache-flush (not for legacy)
        put_be16(out + o + 4, 0);
        put_be16(out + o + 6, MDNS_TTL_S);
        put_be16(out + o + 8, 4);
        memcpy(out + o + 10, ip, 4);
        return o + 14;
    }
    return 0;
}
