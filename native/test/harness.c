#include "harness.h"
#include <stdlib.h>

int h_case_failed;
static int passed, failed, n;
h_report_t h_reports[H_MAX_REPORTS];
int h_nreports;

void h_run(const char *name, void (*fn)(void)) {
    h_case_failed = 0;
    h_clear();
    fn();
    n++;
    if (h_case_failed) {
        failed++;
        printf("not ok %d - %s\n", n, name);
    } else {
        passed++;
        printf("ok %d - %s\n", n, name);
    }
    fflush(stdout);
}

int h_summary(void) {
    printf("native: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

int h_emit(void *ctx, uint16_t code, const void *data, unsigned len) {
    (void)ctx;
    if (h_nreports >= H_MAX_REPORTS || len > sizeof(h_reports[0].data)) {
        printf("#   too many reports captured\n");
        h_case_failed = 1;
        return -1;
    }
    h_report_t *r = &h_reports[h_nreports++];
    r->code = code;
    r->len = (uint8_t)len;
    memcpy(r->data, data, len);
    return 0;
}

void h_clear(void) {
    h_nreports = 0;
}

int h_find(uint16_t code, int from, int id_at, int id) {
    for (int i = from < 0 ? 0 : from; i < h_nreports; i++)
        if (h_reports[i].code == code &&
            (id_at < 0 || (id_at < h_reports[i].len && h_reports[i].data[id_at] == id)))
            return i;
    return -1;
}

int h_count(uint16_t code, int id_at, int id) {
    int k = 0;
    for (int i = h_find(code, 0, id_at, id); i >= 0; i = h_find(code, i + 1, id_at, id))
        k++;
    return k;
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
#define SUITE(name, fn)                                                                            \
    if (!only || strcmp(only, name) == 0) {                                                        \
        printf("# %s\n", name);                                                                    \
        fn();                                                                                      \
    }
    SUITE("queue", test_queue);
    SUITE("sockets", test_sockets);
    SUITE("filestore", test_filestore);
    SUITE("resetreason", test_resetreason);
    SUITE("serial", test_serial);
    SUITE("accesspoint", test_accesspoint);
    SUITE("mdns", test_mdns);
    SUITE("classes", test_classes);
    SUITE("bus", test_bus);
    return h_summary();
}
