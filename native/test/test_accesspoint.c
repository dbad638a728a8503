#include "harness.h"
#include "accesspoint.h"
#include "nat_wire.h"

static ap_core_t A;
static int started, stopped, fail_start;
static char got_ssid[40], got_pw[80], got_host[40];
static uint8_t got_channel;

static int a_start(void *ctx, const char *ssid, const char *pw, uint8_t ch) {
    (void)ctx;
    if (fail_start)
        return -1;
    started++;
    strcpy(got_ssid, ssid);
    strcpy(got_pw, pw);
    got_channel = ch;
    return 0;
}
static void a_stop(void *ctx) {
    (void)ctx;
    stopped++;
}
static void a_host(void *ctx, const char *n) {
    (void)ctx;
    strcpy(got_host, n);
}
static const ap_ops_t radio = {a_start, a_stop, a_host};
static const uint8_t ap_ip[4] = {192, 168, 4, 1};

static void setup(void) {
    started = stopped = fail_start = 0;
    got_host[0] = 0;
    ap_init(&A, &radio, NULL, ap_ip, h_emit, NULL);
}

static uint8_t start(const char *ssid, const char *pw, uint8_t ch) {
    uint8_t p[1 + 120];
    p[0] = ch;
    unsigned a = strlen(ssid) + 1, b = strlen(pw) + 1;
    memcpy(p + 1, ssid, a);
    memcpy(p + 1 + a, pw, b);
    h_clear();
    ap_handle(&A, AP_CMD_START_AP, p, 1 + a + b);
    int k = h_find(AP_REP_START_AP, 0, -1, 0);
    return k < 0 ? 0xff : h_reports[k].data[0];
}

static void bad_arguments_are_refused_and_start_nothing(void) {
    setup();
    CHECK_EQ(start("", "password1", 1), AP_BAD_SSID);
    CHECK_EQ(start("012345678901234567890123456789012", "password1", 1), AP_BAD_SSID); // 33
    CHECK_EQ(start("SmartBMS", "short", 1), AP_BAD_PASSWORD);
    char long_pw[70];
    memset(long_pw, 'p', 64);
    long_pw[64] = 0;
    CHECK_EQ(start("SmartBMS", long_pw, 1), AP_BAD_PASSWORD);
    CHECK_EQ(start("SmartBMS", "password1", 14), AP_FAILED);
    CHECK_EQ(started, 0);
    CHECK_EQ(A.mode, AP_MODE_OFFLINE);
}

static void start_brings_the_access_point_up_with_its_address(void) {
    setup();
    CHECK_EQ(start("SmartBMS-1234", "password1", 6), AP_OK);
    CHECK_EQ(started, 1);
    CHECK(strcmp(got_ssid, "SmartBMS-1234") == 0 && strcmp(got_pw, "password1") == 0);
    CHECK_EQ(got_channel, 6);
    CHECK_EQ(A.mode, AP_MODE_ACCESS_POINT);
    CHECK(h_find(NAT_EVENT(AP_EV_MODE_CHANGED), 0, 0, AP_MODE_ACCESS_POINT) >= 0);
    h_clear();
    ap_handle(&A, NAT_GET(AP_REG_IP_ADDRESS), NULL, 0);
    CHECK(memcmp(h_reports[0].data, ap_ip, 4) == 0);
    ap_handle(&A, NAT_GET(AP_REG_AP_SSID), NULL, 0);
    CHECK(h_reports[1].len == 13 && memcmp(h_reports[1].data, "SmartBMS-1234", 13) == 0);
    CHECK_EQ(start("Open", "", 0), AP_OK); // an open network
}

static void a_radio_that_fails_is_failed(void) {
    setup();
    fail_start = 1;
    CHECK_EQ(start("SmartBMS", "password1", 1), AP_FAILED);
    CHECK_EQ(A.mode, AP_MODE_OFFLINE);
}

static void mode_follows_the_station_and_the_access_point(void) {
    setup();
    const uint8_t sta[4] = {10, 0, 0, 7};
    ap_station(&A, sta);
    CHECK_EQ(A.mode, AP_MODE_STATION);
    h_clear();
    ap_handle(&A, NAT_GET(AP_REG_IP_ADDRESS), NULL, 0);
    CHECK(memcmp(h_reports[0].data, sta, 4) == 0);
    start("SmartBMS", "password1", 1);
    CHECK_EQ(A.mode, AP_MODE_ACCESS_POINT); // the mode says what the user should use
    ap_handle(&A, AP_CMD_STOP_AP, NULL, 0);
    CHECK_EQ(stopped, 1);
    CHECK_EQ(A.mode, AP_MODE_STATION);
    ap_station(&A, NULL);
    CHECK_EQ(A.mode, AP_MODE_OFFLINE);
    h_clear();
    ap_handle(&A, NAT_GET(AP_REG_IP_ADDRESS), NULL, 0);
    CHECK(memcmp(h_reports[0].data, "\0\0\0\0", 4) == 0);
    ap_handle(&A, AP_CMD_STOP_AP, NULL, 0); // nothing to stop
    CHECK_EQ(stopped, 1);
}

static void hostname_is_checked_then_set(void) {
    setup();
    ap_handle(&A, NAT_SET(AP_REG_HOSTNAME), (const uint8_t *)"smartbms", 8);
    CHECK(strcmp(got_host, "smartbms") == 0);
    ap_handle(&A, NAT_SET(AP_REG_HOSTNAME), (const uint8_t *)"Bad_Name", 8);
    ap_handle(&A, NAT_SET(AP_REG_HOSTNAME), (const uint8_t *)"", 0);
    CHECK(strcmp(A.hostname, "smartbms") == 0);
    CHECK(ap_valid_hostname("a-1", 3));
    CHECK(!ap_valid_hostname("012345678901234567890123456789012", 33));
    h_clear();
    ap_handle(&A, NAT_GET(AP_REG_HOSTNAME), NULL, 0);
    CHECK(h_reports[0].len == 8 && memcmp(h_reports[0].data, "smartbms", 8) == 0);
}

void test_accesspoint(void) {
    RUN(bad_arguments_are_refused_and_start_nothing);
    RUN(start_brings_the_access_point_up_with_its_address);
    RUN(a_radio_that_fails_is_failed);
    RUN(mode_follows_the_station_and_the_access_point);
    RUN(hostname_is_checked_then_set);
}
