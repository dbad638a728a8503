#include "nat_queue.h"
#include "nat_wire.h"

static void lock(nat_queue_t *q) {
    if (q->lock)
        q->lock(q->lock_ctx);
}
static void unlock(nat_queue_t *q) {
    if (q->unlock)
        q->unlock(q->lock_ctx);
}

void nat_queue_init(nat_queue_t *q, uint8_t *buf, uint16_t size) {
    memset(q, 0, sizeof(*q));
    q->buf = buf;
    q->size = size;
}

unsigned nat_queue_room(nat_queue_t *q) {
    lock(q);
    unsigned r = q->size - q->used;
    unlock(q);
    return r;
}

static void put_bytes(nat_queue_t *q, unsigned at, const uint8_t *src, unsigned len) {
    for (unsigned i = 0; i < len; i++)
        q->buf[(at + i) % q->size] = src[i];
}

static void get_bytes(nat_queue_t *q, unsigned at, uint8_t *dst, unsigned len) {
    for (unsigned i = 0; i < len; i++)
        dst[i] = q->buf[(at + i) % q->size];
}

int nat_queue_push(nat_queue_t *q, uint16_t code, const void *data, unsigned len) {
    if (len > NAT_MAX_PAYLOAD)
        return -1;
    uint8_t hdr[3] = {(uint8_t)code, (uint8_t)(code >> 8), (uint8_t)len};
    lock(q);
    int r = -1;
    if ((unsigned)(q->size - q->used) >= NAT_QUEUE_COST(len)) {
        unsigned tail = (q->head + q->used) % q->size;
        put_bytes(q, tail, hdr, 3);
        put_bytes(q, tail + 3, (const uint8_t *)data, len);
        q->used += NAT_QUEUE_COST(len);
        q->count++;
        r = 0;
    }
    unlock(q);
    return r;
}

int nat_queue_peek(nat_queue_t *q, uint16_t *code, uint8_t *data) {
    lock(q);
    int r = -1;
    if (q->count) {
        uint8_t hdr[3];
        get_bytes(q, q->head, hdr, 3);
        *code = nat_get_u16(hdr);
        get_bytes(q, q->head + 3, data, hdr[2]);
        r = hdr[2];
    }
    unlock(q);
    return r;
}

void nat_queue_pop(nat_queue_t *q) {
    lock(q);
    if (q->count) {
        uint8_t len = q->buf[(q->head + 2) % q->size];
        q->head = (q->head + NAT_QUEUE_COST(len)) % q->size;
        q->used -= NAT_QUEUE_COST(len);
        q->count--;
    }
    unlock(q);
}
