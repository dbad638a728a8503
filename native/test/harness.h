// A small test harness for the native core: each TEST is one case; CHECK records a failure and
// goes on. Output: TAP-like lines and the summary "native: N passed, M failed".
#pragma once
#include <stdio.h>
#include <stdint.h>
#include <string.h>

extern int h_case_failed;
void h_run(const char *name, void (*fn)(void));
int h_summary(void);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("#   %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                    \
            h_case_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) {                                                                            \
            printf("#   %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, _a, #b,  \
                   _b);                                                                            \
            h_case_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)
#define RUN(fn) h_run(#fn, fn)

/** Reports a core emitted, captured in order. */
typedef struct {
    uint16_t code;
    uint8_t len;
    uint8_t data[240];
} h_report_t;

#define H_MAX_REPORTS 256
extern h_report_t h_reports[H_MAX_REPORTS];
extern int h_nreports;
/** An emit callback that records into h_reports. */
int h_emit(void *ctx, uint16_t code, const void *data, unsigned len);
void h_clear(void);
/** The index of the first report with `code` at or after `from` (and byte at `id_at` == id when
 * id_at >= 0), or -1. */
int h_find(uint16_t code, int from, int id_at, int id);
int h_count(uint16_t code, int id_at, int id);

void test_queue(void);
void test_sockets(void);
void test_filestore(void);
void test_resetreason(void);
void test_serial(void);
void test_accesspoint(void);
void test_mdns(void);
void test_classes(void);
void test_bus(void);
