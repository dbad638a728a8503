// A bounded queue of packets (command or report code + payload) in one byte ring: the hand-over
// between the Jacdac main loop and a service's worker task. Nothing is dropped silently: a push
// that does not fit fails and the caller decides (and says on the console) what happens.
#pragma once
#include <stdint.h>
#include <stdbool.h>

typedef struct {
    uint8_t *buf;
    uint16_t size; // bytes in buf
    uint16_t head; // next byte to read
    uint16_t used; // bytes queued
    uint16_t count; // packets queued
    void (*lock)(void *lock_ctx); // NULL when one task uses the queue
    void (*unlock)(void *lock_ctx);
    void *lock_ctx;
} nat_queue_t;

void nat_queue_init(nat_queue_t *q, uint8_t *buf, uint16_t size);
/** Bytes a packet of `len` payload bytes takes in the ring. */
#define NAT_QUEUE_COST(len) ((len) + 3u)
/** Free bytes now. */
unsigned nat_queue_room(nat_queue_t *q);
/** Appends one packet; 0 on success, -1 when it does not fit (nothing queued then). */
int nat_queue_push(nat_queue_t *q, uint16_t code, const void *data, unsigned len);
/** Copies the oldest packet into data (at least NAT_MAX_PAYLOAD bytes) without removing it;
 * returns its length, or -1 when the queue is empty. */
int nat_queue_peek(nat_queue_t *q, uint16_t *code, uint8_t *data);
/** Removes the oldest packet (after a successful peek). */
void nat_queue_pop(nat_queue_t *q);
