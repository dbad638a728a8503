#include "harness.h"
#include "serial.h"
#include "nat_wire.h"

// a UART double: bytes "on the wire" to be read, bytes written, lost bytes, the baud rate
static uint8_t wire[2000];
static unsigned wire_len, wire_pos;
static uint8_t sent[300];
static unsigned sent_len;
static uint32_t lost, baud_set;
static char log_line[120];

static int u_read(void *ctx, uint8_t *buf, unsigned max) {
    (void)ctx;
    unsigned n = wire_len - wire_pos < max ? wire_len - wire_pos : max;
    memcpy(buf, wire + wire_pos, n);
    wire_pos += n;
    return (int)n;
}
static int u_write(void *ctx, const uint8_t *d, unsigned n) {
    (void)ctx;
    memcpy(sent + sent_len, d, n);
    sent_len += n;
    return (int)n;
}
static int u_baud(void *ctx, uint32_t b) {
    (void)ctx;
    baud_set = b;
    return 0;
}
static uint32_t u_lost(void *ctx) {
    (void)ctx;
    uint32_t l = lost;
    lost = 0;
    return l;
}
static void u_log(const char *line) {
    snprintf(log_line, sizeof(log_line), "%s", line);
}
static const ser_ops_t uart = {u_read, u_write, u_baud, u_lost};
static ser_core_t S;

static void setup(void) {
    wire_len = wire_pos = sent_len = lost = baud_set = 0;
    log_line[0] = 0;
    ser_init(&S, &uart, NULL, 9600, h_emit, NULL);
    S.log = u_log;
}

static void received_bytes_come_in_order_in_reports_of_236(void) {
    setup();
    for (int i = 0; i < 600; i++)
        wire[i] = (uint8_t)(i * 7);
    wire_len = 600;
    while (ser_poll(&S))
        ;
    CHECK_EQ(h_nreports, 3);
    unsigned off = 0;
    for (int k = 0; k < h_nreports; k++) {
        CHECK_EQ(h_reports[k].code, SER_REP_RECEIVED);
        CHECK(memcmp(h_reports[k].data, wire + off, h_reports[k].len) == 0);
        off += h_reports[k].len;
    }
    CHECK_EQ(off, 600u);
    CHECK_EQ(h_reports[0].len, 236);
}

static void overrun_is_said_on_the_console(void) {
    setup();
    memcpy(wire, "\xa5\x01", 2);
    wire_len = 2;
    lost = 17; // overruns the driver counted
    ser_poll(&S);
    CHECK(strstr(log_line, "overrun, bytes lost (17 times") != NULL);
    CHECK_EQ(S.lost_total, 17u);
    CHECK_EQ(h_nreports, 1); // what did arrive is delivered
}

static void send_writes_to_the_uart(void) {
    setup();
    ser_handle(&S, SER_CMD_SEND, (const uint8_t *)"\xa5\x40\x90\x08", 4);
    CHECK_EQ(sent_len, 4u);
    CHECK(memcmp(sent, "\xa5\x40\x90\x08", 4) == 0);
}

static void baud_rate_is_set_and_refused_when_absurd(void) {
    setup();
    uint8_t p[4];
    nat_put_u32(p, 115200);
    ser_handle(&S, NAT_SET(SER_REG_BAUD_RATE), p, 4);
    CHECK_EQ(baud_set, 115200u);
    nat_put_u32(p, 0);
    ser_handle(&S, NAT_SET(SER_REG_BAUD_RATE), p, 4);
    CHECK_EQ(S.baud, 115200u);
    CHECK(strstr(log_line, "refused") != NULL);
    ser_handle(&S, NAT_GET(SER_REG_BAUD_RATE), NULL, 0);
    CHECK_EQ(nat_get_u32(h_reports[h_nreports - 1].data), 115200);
}

static void disabled_port_drops_what_arrives(void) {
    setup();
    uint8_t off = 0;
    ser_handle(&S, NAT_SET(SER_REG_ENABLED), &off, 1);
    wire_len = 10;
    ser_poll(&S);
    CHECK_EQ(h_nreports, 0);
    CHECK_EQ(wire_pos, 10u); // read and dropped, not left to pile up
}

void test_serial(void) {
    RUN(received_bytes_come_in_order_in_reports_of_236);
    RUN(overrun_is_said_on_the_console);
    RUN(send_writes_to_the_uart);
    RUN(baud_rate_is_set_and_refused_when_absurd);
    RUN(disabled_port_drops_what_arrives);
}
