// File Store core on a temporary folder standing in for the card, and on test doubles for a card
// that is full or failing.
#include "harness.h"
#include "filestore.h"
#include "fs_posix.h"
#include "nat_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static fs_core_t F;
static char root[64];

static void rm_tree(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("#   cannot remove %s\n", dir);
}

static void setup_with(const fs_ops_t *ops) {
    strcpy(root, "/tmp/natfs.XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    fs_init(&F, ops, root, root, h_emit, NULL);
    F.present = true;
}

static void setup(void) {
    setup_with(&fs_posix_ops);
}

static void teardown(void) {
    rm_tree(root);
}

// ---- requests ----
static void req_path(uint16_t code, uint16_t req, const char *path) {
    uint8_t p[2 + 80];
    nat_put_u16(p, req);
    unsigned n = strlen(path);
    memcpy(p + 2, path, n);
    fs_command(&F, code, p, 2 + n);
}

static void append(uint16_t req, const char *path, const char *data, uint32_t expected) {
    uint8_t p[6 + 80 + 240];
    nat_put_u32(p, expected);
    nat_put_u16(p + 4, req);
    unsigned n = strlen(path) + 1;
    memcpy(p + 6, path, n);
    unsigned d = strlen(data);
    memcpy(p + 6 + n, data, d);
    fs_command(&F, FS_CMD_APPEND, p, 6 + n + d);
}

static void read_at(uint16_t req, const char *path, uint32_t offset, uint8_t length) {
    uint8_t p[7 + 80];
    nat_put_u32(p, offset);
    nat_put_u16(p + 4, req);
    p[6] = length;
    unsigned n = strlen(path);
    memcpy(p + 7, path, n);
    fs_command(&F, FS_CMD_READ, p, 7 + n);
}

static void list(uint16_t req, const char *path, uint16_t index) {
    uint8_t p[4 + 80];
    nat_put_u16(p, index);
    nat_put_u16(p + 2, req);
    unsigned n = strlen(path);
    memcpy(p + 4, path, n);
    fs_command(&F, FS_CMD_LIST, p, 4 + n);
}

static void rename_(uint16_t req, const char *from, const char *to) {
    uint8_t p[2 + 160];
    nat_put_u16(p, req);
    unsigned a = strlen(from) + 1, b = strlen(to) + 1;
    memcpy(p + 2, from, a);
    memcpy(p + 2 + a, to, b);
    fs_command(&F, FS_CMD_RENAME, p, 2 + a + b);
}

// ---- answers (the last one) ----
static h_report_t *last(void) {
    return h_nreports ? &h_reports[h_nreports - 1] : NULL;
}
static uint16_t result_status(void) {
    h_report_t *r = last();
    return r && r->code == FS_REP_RESULT ? nat_get_u16(r->data + 6) : 0xffff;
}
static uint32_t result_value(void) {
    return last() ? nat_get_u32(last()->data) : 0;
}
static uint16_t result_req(void) {
    return last() ? nat_get_u16(last()->data + 4) : 0;
}
static uint16_t entry_status(void) {
    h_report_t *r = last();
    return r && r->code == FS_REP_ENTRY ? nat_get_u16(r->data + 12) : 0xffff;
}
static void entry_name(char *out) {
    h_report_t *r = last();
    unsigned n = r ? r->len - 15 : 0;
    memcpy(out, r->data + 15, n);
    out[n] = 0;
}
static uint16_t read_status(void) {
    h_report_t *r = last();
    return r && r->code == FS_REP_READ_DATA ? nat_get_u16(r->data + 6) : 0xffff;
}

static bool host_exists(const char *rel) {
    char p[160];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    struct stat s;
    return stat(p, &s) == 0;
}

// ---- tests ----
static void names_follow_the_8_3_rules(void) {
    CHECK(fs_valid_name("LOG", 3));
    CHECK(fs_valid_name("20261121.CSV", 12));
    CHECK(fs_valid_name("a_b-c~!#", 8));
    CHECK(fs_valid_name("$%&()@^1.X", 10));
    CHECK(!fs_valid_name("TOOLONGNA.CSV", 13)); // 9 characters
    CHECK(!fs_valid_name("FILE.CSVX", 9)); // a 4-character extension
    CHECK(!fs_valid_name(".CSV", 4));
    CHECK(!fs_valid_name("FILE.", 5));
    CHECK(!fs_valid_name("A.B.C", 5));
    CHECK(!fs_valid_name("A B", 3));
    CHECK(!fs_valid_name("A*B", 3));
    CHECK(!fs_valid_name("A+B", 3));
    CHECK(!fs_valid_name("", 0));
    CHECK(!fs_valid_name("\xc3\xa9", 2)); // no letters beyond A-Z
}

static void paths_become_upper_case_host_paths(void) {
    char out[FS_HOST_PATH], lastn[13];
    CHECK_EQ(fs_host_path("/sdcard", "/log/20261121.csv", 17, out, lastn), FS_OK);
    CHECK(strcmp(out, "/sdcard/LOG/20261121.CSV") == 0);
    CHECK(strcmp(lastn, "20261121.CSV") == 0);
    CHECK_EQ(fs_host_path("/sdcard", "/", 1, out, lastn), FS_OK);
    CHECK(strcmp(out, "/sdcard") == 0 && lastn[0] == 0);
    CHECK_EQ(fs_host_path("/sdcard", "/LOG/", 5, out, NULL), FS_OK); // a trailing slash
    CHECK(strcmp(out, "/sdcard/LOG") == 0);
    CHECK_EQ(fs_host_path("/sdcard", "log", 3, out, NULL), FS_BAD_NAME); // relative
    CHECK_EQ(fs_host_path("/sdcard", "//x", 3, out, NULL), FS_BAD_NAME); // an empty name
    CHECK_EQ(fs_host_path("/sdcard", "/a/../b", 7, out, NULL), FS_BAD_NAME); // no way out
    CHECK_EQ(fs_host_path("/sdcard", "", 0, out, NULL), FS_BAD_NAME);
    CHECK_EQ(fs_host_path("/sdcard", "/a\0b", 4, out, NULL), FS_BAD_NAME);
    char longp[80] = "";
    for (int i = 0; i < 13; i++)
        strcat(longp, "/ABCD"); // 65 characters
    CHECK_EQ(fs_host_path("/sdcard", longp, strlen(longp), out, NULL), FS_BAD_NAME);
    longp[64] = 0; // 64: allowed ("/ABC" at the end)
    CHECK_EQ(fs_host_path("/sdcard", longp, 64, out, NULL), FS_OK);
}

static void bad_names_are_answered_bad_name_and_touch_nothing(void) {
    setup();
    append(1, "/much_too_long.csv", "x", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_BAD_NAME);
    CHECK_EQ(result_req(), 1);
    read_at(2, "/a b", 0, 10);
    CHECK_EQ(read_status(), FS_BAD_NAME);
    req_path(FS_CMD_MAKE_FOLDER, 3, "/bad*dir");
    CHECK_EQ(result_status(), FS_BAD_NAME);
    rename_(4, "/OK.TXT", "/not ok.txt");
    CHECK_EQ(result_status(), FS_BAD_NAME);
    req_path(FS_CMD_DELETE, 5, "/"); // the root is not deleted
    CHECK_EQ(result_status(), FS_BAD_NAME);
    list(6, "relative", 0);
    CHECK_EQ(entry_status(), FS_BAD_NAME);
    teardown();
}

static void append_creates_grows_and_reports_the_size(void) {
    setup();
    append(7, "/data.csv", "hello", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_OK);
    CHECK_EQ(result_value(), 5);
    CHECK_EQ(result_req(), 7);
    CHECK(host_exists("/DATA.CSV")); // stored upper case
    append(8, "/DATA.CSV", " world", 5);
    CHECK_EQ(result_status(), FS_OK);
    CHECK_EQ(result_value(), 11);
    read_at(9, "/data.csv", 0, 200);
    CHECK_EQ(read_status(), FS_OK);
    CHECK(last()->len == 8 + 11 && memcmp(last()->data + 8, "hello world", 11) == 0);
    teardown();
}

static void append_with_the_wrong_expected_size_writes_nothing(void) {
    setup();
    append(1, "/J.LOG", "abc", FS_ANY_SIZE);
    append(2, "/J.LOG", "abc", 0); // a retry of the first append: it is already there
    CHECK_EQ(result_status(), FS_OFFSET_MISMATCH);
    CHECK_EQ(result_value(), 3);
    read_at(3, "/J.LOG", 0, 100);
    CHECK_EQ(last()->len, 8 + 3);
    teardown();
}

static void append_into_a_missing_folder_or_onto_a_folder_fails(void) {
    setup();
    append(1, "/NOPE/A.TXT", "x", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_NOT_FOUND);
    req_path(FS_CMD_MAKE_FOLDER, 2, "/LOG");
    append(3, "/LOG", "x", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_IS_FOLDER);
    uint8_t p[6] = {0xff, 0xff, 0xff, 0xff, 4, 0}; // no NUL after the path: malformed
    fs_command(&F, FS_CMD_APPEND, p, 6);
    CHECK_EQ(result_status(), FS_BAD_ARGUMENT);
    CHECK_EQ(result_req(), 4);
    teardown();
}

static void read_past_the_end_missing_and_folders(void) {
    setup();
    append(1, "/R.BIN", "0123456789", FS_ANY_SIZE);
    read_at(2, "/R.BIN", 8, 100);
    CHECK_EQ(read_status(), FS_OK);
    CHECK_EQ(last()->len, 8 + 2);
    CHECK_EQ(nat_get_u32(last()->data), 8);
    read_at(3, "/R.BIN", 50, 100);
    CHECK_EQ(read_status(), FS_OK);
    CHECK_EQ(last()->len, 8); // the end of the file: no bytes
    read_at(4, "/NONE.BIN", 0, 10);
    CHECK_EQ(read_status(), FS_NOT_FOUND);
    req_path(FS_CMD_MAKE_FOLDER, 5, "/D");
    read_at(6, "/D", 0, 10);
    CHECK_EQ(read_status(), FS_IS_FOLDER);
    char big[241];
    memset(big, 'q', 240);
    big[240] = 0;
    append(7, "/BIG.BIN", big, FS_ANY_SIZE);
    read_at(8, "/BIG.BIN", 0, 255);
    CHECK_EQ(last()->len, 8 + FS_MAX_READ); // at most 224 bytes
    teardown();
}

static void list_gives_entries_in_name_order_then_end_of_list(void) {
    setup();
    req_path(FS_CMD_MAKE_FOLDER, 1, "/LOG");
    append(2, "/LOG/C.CSV", "ccc", FS_ANY_SIZE);
    append(3, "/LOG/A.CSV", "a", FS_ANY_SIZE);
    req_path(FS_CMD_MAKE_FOLDER, 4, "/LOG/B");
    char p[160];
    snprintf(p, sizeof(p), "%s/LOG/a long name.txt", root); // a PC's long name: not listed
    FILE *f = fopen(p, "w");
    fclose(f);
    const char *want[] = {"A.CSV", "B", "C.CSV"};
    for (int i = 0; i < 3; i++) {
        list(10 + i, "/log", i);
        CHECK_EQ(entry_status(), FS_OK);
        char name[20];
        entry_name(name);
        CHECK(strcmp(name, want[i]) == 0);
        CHECK_EQ(nat_get_u16(last()->data + 8), i);
        CHECK_EQ(last()->data[14], i == 1); // is_folder
    }
    list(20, "/log", 3);
    CHECK_EQ(entry_status(), FS_END_OF_LIST);
    list(21, "/log", 1); // going back works too
    char name[20];
    entry_name(name);
    CHECK(strcmp(name, "B") == 0);
    list(22, "/LOG/C.CSV", 0);
    CHECK_EQ(entry_status(), FS_NOT_FOUND);
    list(23, "/NODIR", 0);
    CHECK_EQ(entry_status(), FS_NOT_FOUND);
    list(24, "/", 0);
    entry_name(name);
    CHECK(strcmp(name, "LOG") == 0);
    teardown();
}

static void stat_tells_size_time_and_kind(void) {
    setup();
    append(1, "/S.TXT", "12345", FS_ANY_SIZE);
    req_path(FS_CMD_STAT, 2, "/s.txt");
    CHECK_EQ(entry_status(), FS_OK);
    CHECK_EQ(nat_get_u32(last()->data), 5);
    CHECK(nat_get_u32(last()->data + 4) > 1700000000u); // modified: now-ish
    char name[20];
    entry_name(name);
    CHECK(strcmp(name, "S.TXT") == 0);
    req_path(FS_CMD_STAT, 3, "/");
    CHECK_EQ(entry_status(), FS_OK);
    CHECK_EQ(last()->data[14], 1);
    req_path(FS_CMD_STAT, 4, "/NO.TXT");
    CHECK_EQ(entry_status(), FS_NOT_FOUND);
    teardown();
}

static void rename_moves_and_never_overwrites(void) {
    setup();
    append(1, "/A.TXT", "a", FS_ANY_SIZE);
    append(2, "/B.TXT", "b", FS_ANY_SIZE);
    rename_(3, "/A.TXT", "/B.TXT");
    CHECK_EQ(result_status(), FS_EXISTS);
    req_path(FS_CMD_MAKE_FOLDER, 4, "/OLD");
    rename_(5, "/a.txt", "/old/a.txt");
    CHECK_EQ(result_status(), FS_OK);
    CHECK(host_exists("/OLD/A.TXT") && !host_exists("/A.TXT"));
    rename_(6, "/GONE.TXT", "/X.TXT");
    CHECK_EQ(result_status(), FS_NOT_FOUND);
    teardown();
}

static void delete_files_and_only_empty_folders(void) {
    setup();
    req_path(FS_CMD_MAKE_FOLDER, 1, "/D");
    append(2, "/D/F.TXT", "f", FS_ANY_SIZE);
    req_path(FS_CMD_DELETE, 3, "/D");
    CHECK_EQ(result_status(), FS_NOT_EMPTY);
    CHECK(host_exists("/D/F.TXT"));
    req_path(FS_CMD_DELETE, 4, "/D/F.TXT");
    CHECK_EQ(result_status(), FS_OK);
    req_path(FS_CMD_DELETE, 5, "/D");
    CHECK_EQ(result_status(), FS_OK);
    CHECK(!host_exists("/D"));
    req_path(FS_CMD_DELETE, 6, "/D");
    CHECK_EQ(result_status(), FS_NOT_FOUND);
    teardown();
}

static void make_folder_is_idempotent_and_needs_its_parent(void) {
    setup();
    req_path(FS_CMD_MAKE_FOLDER, 1, "/LOG");
    CHECK_EQ(result_status(), FS_OK);
    req_path(FS_CMD_MAKE_FOLDER, 2, "/LOG");
    CHECK_EQ(result_status(), FS_OK);
    req_path(FS_CMD_MAKE_FOLDER, 3, "/X/Y");
    CHECK_EQ(result_status(), FS_NOT_FOUND);
    append(4, "/F", "x", FS_ANY_SIZE);
    req_path(FS_CMD_MAKE_FOLDER, 5, "/F");
    CHECK_EQ(result_status(), FS_EXISTS);
    teardown();
}

static void without_a_card_every_request_is_no_card(void) {
    setup();
    fs_card_changed(&F, false);
    CHECK_EQ(h_reports[0].code, NAT_EVENT(FS_EV_CARD_CHANGED));
    CHECK_EQ(h_reports[0].data[0], 0);
    append(1, "/A.TXT", "x", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_NO_CARD);
    CHECK(!host_exists("/A.TXT"));
    read_at(2, "/A.TXT", 0, 1);
    CHECK_EQ(read_status(), FS_NO_CARD);
    list(3, "/", 0);
    CHECK_EQ(entry_status(), FS_NO_CARD);
    req_path(FS_CMD_STAT, 4, "/");
    CHECK_EQ(entry_status(), FS_NO_CARD);
    rename_(5, "/A", "/B");
    CHECK_EQ(result_status(), FS_NO_CARD);
    req_path(FS_CMD_DELETE, 6, "/A");
    CHECK_EQ(result_status(), FS_NO_CARD);
    req_path(FS_CMD_MAKE_FOLDER, 7, "/A");
    CHECK_EQ(result_status(), FS_NO_CARD);
    fs_command(&F, NAT_GET(FS_REG_CARD_PRESENT), NULL, 0);
    CHECK_EQ(last()->data[0], 0);
    fs_command(&F, NAT_GET(FS_REG_TOTAL_SPACE), NULL, 0);
    CHECK_EQ(nat_get_u32(last()->data), 0);
    fs_card_changed(&F, true);
    CHECK_EQ(last()->code, NAT_EVENT(FS_EV_CARD_CHANGED));
    CHECK_EQ(last()->data[0], 1);
    fs_command(&F, NAT_GET(FS_REG_TOTAL_SPACE), NULL, 0);
    CHECK(nat_get_u32(last()->data) > 0 || nat_get_u32(last()->data + 4) > 0);
    teardown();
}

// a card with little room: space() says so, and a write can come out short
static uint64_t card_free;
static int small_space(void *ctx, uint64_t *free_b, uint64_t *total_b) {
    (void)ctx;
    *free_b = card_free;
    *total_b = 1 << 20;
    return 0;
}
static int short_append(void *ctx, const char *path, const uint8_t *data, unsigned len) {
    int r = fs_posix_ops.append(ctx, path, data, len > 2 ? 2 : len); // the card filled up
    return r;
}

static void a_full_card_is_full(void) {
    fs_ops_t ops = fs_posix_ops;
    ops.space = small_space;
    setup_with(&ops);
    card_free = 3;
    append(1, "/F.TXT", "abc", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_OK);
    card_free = 0;
    append(2, "/F.TXT", "more", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_FULL);
    CHECK_EQ(result_value(), 3); // nothing was written
    card_free = 100;
    ops.append = short_append;
    append(3, "/F.TXT", "defg", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_FULL);
    CHECK_EQ(result_value(), 5); // what went in is said
    teardown();
}

// a failing card: every call that touches it ends in EIO
static int eio_stat(void *ctx, const char *p, fs_stat_t *st) {
    (void)ctx, (void)p, (void)st;
    return -EIO;
}
static int eio_append(void *ctx, const char *p, const uint8_t *d, unsigned n) {
    (void)ctx, (void)p, (void)d, (void)n;
    return -EIO;
}
static int eio_next(void *ctx, const char *dir, const char *after, char *out) {
    (void)ctx, (void)dir, (void)after, (void)out;
    return -EIO;
}

static void a_failing_card_is_io_error(void) {
    fs_ops_t ops = fs_posix_ops;
    ops.append = eio_append;
    setup_with(&ops);
    append(1, "/F.TXT", "abc", FS_ANY_SIZE);
    CHECK_EQ(result_status(), FS_IO_ERROR);
    ops.next_name = eio_next;
    list(2, "/", 0);
    CHECK_EQ(entry_status(), FS_IO_ERROR);
    ops.stat = eio_stat;
    read_at(3, "/F.TXT", 0, 10);
    CHECK_EQ(read_status(), FS_IO_ERROR);
    req_path(FS_CMD_STAT, 4, "/F.TXT");
    CHECK_EQ(entry_status(), FS_IO_ERROR);
    req_path(FS_CMD_MAKE_FOLDER, 5, "/D");
    CHECK_EQ(result_status(), FS_IO_ERROR);
    teardown();
}

static void errno_values_map_to_file_status(void) {
    CHECK_EQ(fs_status_from_errno(ENOENT), FS_NOT_FOUND);
    CHECK_EQ(fs_status_from_errno(ENOTDIR), FS_NOT_FOUND);
    CHECK_EQ(fs_status_from_errno(ENOSPC), FS_FULL);
    CHECK_EQ(fs_status_from_errno(EEXIST), FS_EXISTS);
    CHECK_EQ(fs_status_from_errno(ENOTEMPTY), FS_NOT_EMPTY);
    CHECK_EQ(fs_status_from_errno(EISDIR), FS_IS_FOLDER);
    CHECK_EQ(fs_status_from_errno(EIO), FS_IO_ERROR);
    CHECK_EQ(fs_status_from_errno(ENODEV), FS_IO_ERROR);
}

void test_filestore(void) {
    RUN(names_follow_the_8_3_rules);
    RUN(paths_become_upper_case_host_paths);
    RUN(bad_names_are_answered_bad_name_and_touch_nothing);
    RUN(append_creates_grows_and_reports_the_size);
    RUN(append_with_the_wrong_expected_size_writes_nothing);
    RUN(append_into_a_missing_folder_or_onto_a_folder_fails);
    RUN(read_past_the_end_missing_and_folders);
    RUN(list_gives_entries_in_name_order_then_end_of_list);
    RUN(stat_tells_size_time_and_kind);
    RUN(rename_moves_and_never_overwrites);
    RUN(delete_files_and_only_empty_folders);
    RUN(make_folder_is_idempotent_and_needs_its_parent);
    RUN(without_a_card_every_request_is_no_card);
    RUN(a_full_card_is_full);
    RUN(a_failing_card_is_io_error);
    RUN(errno_values_map_to_file_status);
}
