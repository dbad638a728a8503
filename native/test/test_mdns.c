#include "harness.h"
#include "mdns.h"

static const uint8_t ip[4] = {192, 168, 4, 1};

static unsigned query(uint8_t *q, const char *label, uint16_t type, uint16_t cls, uint16_t id) {
    memset(q, 0, 12);
    q[0] = id >> 8;
    q[1] = id & 0xff;
    q[5] = 1;
    unsigned o = 12, l = strlen(label);
    q[o++] = l;
    memcpy(q + o, label, l);
    o += l;
    q[o++] = 5;
    memcpy(q + o, "local", 5);
    o += 5;
    q[o++] = 0;
    q[o++] = type >> 8;
    q[o++] = type & 0xff;
    q[o++] = cls >> 8;
    q[o++] = cls & 0xff;
    return o;
}

static void an_a_question_for_our_name_is_answered(void) {
    uint8_t q[64], out[128];
    bool uni = true;
    unsigned n = query(q, "SmartBMS", 1, 1, 0); // any case
    unsigned a = mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni);
    CHECK(a > 0);
    CHECK(!uni);
    CHECK(out[2] == 0x84 && out[7] == 1); // a response with one answer
    CHECK(memcmp(out + a - 4, ip, 4) == 0);
    CHECK(out[a - 14 + 2] == 0x80 && out[a - 14 + 3] == 1); // IN with cache-flush
    n = query(q, "smartbms", 255, 1, 0); // ANY
    CHECK(mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni) > 0);
}

static void other_names_types_and_responses_are_ignored(void) {
    uint8_t q[64], out[128];
    bool uni;
    unsigned n = query(q, "printer", 1, 1, 0);
    CHECK_EQ(mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni), 0u);
    n = query(q, "smartbms", 28, 1, 0); // AAAA: we have none
    CHECK_EQ(mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni), 0u);
    n = query(q, "smartbms", 1, 1, 0);
    q[2] = 0x84; // a response, not a query
    CHECK_EQ(mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni), 0u);
    CHECK_EQ(mdns_answer(q, 11, 5353, "smartbms", ip, out, sizeof(out), &uni), 0u);
    n = query(q, "smartbms", 1, 1, 0);
    CHECK_EQ(mdns_answer(q, n - 6, 5353, "smartbms", ip, out, sizeof(out), &uni), 0u); // cut short
}

static void unicast_and_legacy_questions_get_a_unicast_answer(void) {
    uint8_t q[64], out[128];
    bool uni = false;
    unsigned n = query(q, "smartbms", 1, 0x8001, 0); // QU
    CHECK(mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni) > 0);
    CHECK(uni);
    n = query(q, "smartbms", 1, 1, 0x1234);
    unsigned a = mdns_answer(q, n, 40000, "smartbms", ip, out, sizeof(out), &uni); // a one-shot resolver
    CHECK(uni);
    CHECK(out[0] == 0x12 && out[1] == 0x34 && out[5] == 1); // its id, and the question again
    CHECK(memcmp(out + a - 4, ip, 4) == 0);
}

static void compressed_names_are_followed(void) {
    uint8_t q[80], out[128];
    bool uni;
    unsigned n = query(q, "other", 12, 1, 0); // a first question whose "local" we point at
    q[5] = 2;
    unsigned local_at = 12 + 1 + 5;
    q[n++] = 8;
    memcpy(q + n, "smartbms", 8);
    n += 8;
    q[n++] = 0xc0;
    q[n++] = (uint8_t)local_at;
    q[n++] = 0;
    q[n++] = 1;
    q[n++] = 0;
    q[n++] = 1;
    CHECK(mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni) > 0);
    q[n - 5] = (uint8_t)(n - 6); // a pointer loop
    q[n - 6] = 0xc0;
    (void)mdns_answer(q, n, 5353, "smartbms", ip, out, sizeof(out), &uni); // must end
}

void test_mdns(void) {
    RUN(an_a_question_for_our_name_is_answered);
    RUN(other_names_types_and_responses_are_ignored);
    RUN(unicast_and_legacy_questions_get_a_unicast_answer);
    RUN(compressed_names_are_followed);
}
