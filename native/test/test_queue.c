#include "harness.h"
#include "nat_queue.h"

static void packets_come_out_in_order_and_whole(void) {
    uint8_t buf[64];
    nat_queue_t q;
    nat_queue_init(&q, buf, sizeof(buf));
    CHECK_EQ(nat_queue_push(&q, 0x92, "abc", 3), 0);
    CHECK_EQ(nat_queue_push(&q, 0x95, "", 0), 0);
    uint8_t d[236];
    uint16_t code;
    CHECK_EQ(nat_queue_peek(&q, &code, d), 3);
    CHECK_EQ(code, 0x92);
    CHECK(memcmp(d, "abc", 3) == 0);
    nat_queue_pop(&q);
    CHECK_EQ(nat_queue_peek(&q, &code, d), 0);
    CHECK_EQ(code, 0x95);
    nat_queue_pop(&q);
    CHECK_EQ(nat_queue_peek(&q, &code, d), -1);
}

static void a_push_that_does_not_fit_queues_nothing(void) {
    uint8_t buf[20];
    nat_queue_t q;
    nat_queue_init(&q, buf, sizeof(buf));
    CHECK_EQ(nat_queue_push(&q, 1, "0123456789", 10), 0); // 13 bytes
    CHECK_EQ(nat_queue_push(&q, 2, "01234", 5), -1); // 8 more do not fit
    CHECK_EQ(q.count, 1);
    CHECK_EQ(nat_queue_room(&q), 7u);
    CHECK_EQ(nat_queue_push(&q, 3, "0123", 4), 0); // exactly fits
    CHECK_EQ(nat_queue_room(&q), 0u);
}

static void the_ring_wraps_without_corrupting(void) {
    uint8_t buf[32];
    nat_queue_t q;
    nat_queue_init(&q, buf, sizeof(buf));
    uint8_t d[236];
    uint16_t code;
    for (int i = 0; i < 50; i++) {
        uint8_t p[7];
        for (int k = 0; k < 7; k++)
            p[k] = (uint8_t)(i * 7 + k);
        CHECK_EQ(nat_queue_push(&q, (uint16_t)i, p, 7), 0);
        if (i % 2) { // keep one or two queued so head and tail move around the ring
            for (int j = 0; j < 2; j++) {
                CHECK_EQ(nat_queue_peek(&q, &code, d), 7);
                CHECK_EQ(d[0], (uint8_t)(code * 7));
                CHECK_EQ(d[6], (uint8_t)(code * 7 + 6));
                nat_queue_pop(&q);
            }
        }
    }
    CHECK_EQ(q.count, 0);
}

static void oversize_payload_is_refused(void) {
    uint8_t buf[600];
    nat_queue_t q;
    nat_queue_init(&q, buf, sizeof(buf));
    uint8_t big[300] = {0};
    CHECK_EQ(nat_queue_push(&q, 1, big, 237), -1);
    CHECK_EQ(nat_queue_push(&q, 1, big, 236), 0);
}

void test_queue(void) {
    RUN(packets_come_out_in_order_and_whole);
    RUN(a_push_that_does_not_fit_queues_nothing);
    RUN(the_ring_wraps_without_corrupting);
    RUN(oversize_payload_is_refused);
}
