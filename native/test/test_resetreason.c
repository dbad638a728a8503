#include "harness.h"
#include "resetreason.h"
#include "nat_wire.h"

static rr_core_t R;

static uint8_t read_reason(void) {
    h_clear();
    rr_handle(&R, NAT_GET(RR_REG_REASON), NULL, 0);
    return h_nreports == 1 ? h_reports[0].data[0] : 0xff;
}

static void read_detail(char *out) {
    h_clear();
    rr_handle(&R, NAT_GET(RR_REG_DETAIL), NULL, 0);
    memcpy(out, h_reports[0].data, h_reports[0].len);
    out[h_reports[0].len] = 0;
}

static void chip_reasons_map_to_the_contract(void) {
    CHECK_EQ(rr_from_chip(RR_CHIP_POWERON), RR_POWER_ON);
    CHECK_EQ(rr_from_chip(RR_CHIP_EXT), RR_POWER_ON);
    CHECK_EQ(rr_from_chip(RR_CHIP_SW), RR_SOFTWARE);
    CHECK_EQ(rr_from_chip(RR_CHIP_PANIC), RR_PANIC);
    CHECK_EQ(rr_from_chip(RR_CHIP_CPU_LOCKUP), RR_PANIC);
    CHECK_EQ(rr_from_chip(RR_CHIP_INT_WDT), RR_WATCHDOG);
    CHECK_EQ(rr_from_chip(RR_CHIP_TASK_WDT), RR_WATCHDOG);
    CHECK_EQ(rr_from_chip(RR_CHIP_WDT), RR_WATCHDOG);
    CHECK_EQ(rr_from_chip(RR_CHIP_BROWNOUT), RR_BROWNOUT);
    CHECK_EQ(rr_from_chip(RR_CHIP_PWR_GLITCH), RR_BROWNOUT);
    // the runtime's ds.reboot() (devicescript-esp32 target_reset()) is a 20 ms deep sleep: the chip
    // wakes with ESP_RST_DEEPSLEEP, a reboot the firmware asked for, never a press of the button
    CHECK_EQ(rr_from_chip(RR_CHIP_DEEPSLEEP), RR_SOFTWARE);
    CHECK_EQ(rr_from_chip(RR_CHIP_UNKNOWN), RR_UNKNOWN);
    CHECK(strcmp(rr_chip_name(RR_CHIP_INT_WDT), "ESP_RST_INT_WDT") == 0);
    CHECK(strcmp(rr_chip_name((rr_chip_t)99), "ESP_RST_UNKNOWN") == 0);
}

static void first_start_tells_the_chip_reason_and_its_name(void) {
    rr_init(&R, RR_CHIP_INT_WDT, h_emit, NULL);
    CHECK_EQ(read_reason(), RR_WATCHDOG);
    char d[80];
    read_detail(d);
    CHECK(strcmp(d, "ESP_RST_INT_WDT") == 0);
}

static void after_acknowledge_a_program_start_is_a_program_restart(void) {
    rr_init(&R, RR_CHIP_POWERON, h_emit, NULL);
    CHECK_EQ(read_reason(), RR_POWER_ON);
    rr_handle(&R, RR_CMD_ACKNOWLEDGE, NULL, 0);
    rr_program_ended(&R, 0); // ds.restart(): asked for, not a crash
    CHECK_EQ(read_reason(), RR_PROGRAM_RESTART); // never a second press of the button
    char d[80];
    read_detail(d);
    CHECK(strcmp(d, "program restart") == 0);
}

static void a_program_crash_is_a_panic_once(void) {
    rr_init(&R, RR_CHIP_POWERON, h_emit, NULL);
    rr_handle(&R, RR_CMD_ACKNOWLEDGE, NULL, 0);
    rr_program_ended(&R, 60005); // an unhandled exception
    CHECK_EQ(read_reason(), RR_PANIC);
    char d[80];
    read_detail(d);
    CHECK(strstr(d, "60005") != NULL);
    rr_handle(&R, RR_CMD_ACKNOWLEDGE, NULL, 0);
    rr_program_ended(&R, 0);
    CHECK_EQ(read_reason(), RR_PROGRAM_RESTART);
}

static void a_crash_before_acknowledge_is_not_taken_for_a_press(void) {
    rr_init(&R, RR_CHIP_POWERON, h_emit, NULL);
    rr_program_ended(&R, 60004); // out of memory before the program read the reason
    CHECK_EQ(read_reason(), RR_PANIC);
}

void test_resetreason(void) {
    RUN(chip_reasons_map_to_the_contract);
    RUN(first_start_tells_the_chip_reason_and_its_name);
    RUN(after_acknowledge_a_program_start_is_a_program_restart);
    RUN(a_program_crash_is_a_panic_once);
    RUN(a_crash_before_acknowledge_is_not_taken_for_a_press);
}
