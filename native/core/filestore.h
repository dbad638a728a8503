// File Store (services/filestore.md): path rules, request decoding, answers and error mapping.
// The file system is reached through fs_ops_t: POSIX calls (fs_posix.c) on the dongle (ESP-IDF's
// VFS over FATFS) and in the unit tests (a temporary folder), or a test double that fails.
#pragma once
#include <stdint.h>
#include <stdbool.h>

#define FS_SERVICE_CLASS 0x15c2e7a9
#define FS_MAX_PATH 64
#define FS_MAX_READ 224
#define FS_ANY_SIZE 0xffffffffu
/** Longest host path: the mount point, then the card path. */
#define FS_HOST_PATH (24 + FS_MAX_PATH + 2)

#define FS_REG_CARD_PRESENT 0x180
#define FS_REG_FREE_SPACE 0x181
#define FS_REG_TOTAL_SPACE 0x182
#define FS_CMD_APPEND 0x80
#define FS_CMD_READ 0x81
#define FS_CMD_LIST 0x82
#define FS_CMD_STAT 0x83
#define FS_CMD_RENAME 0x84
#define FS_CMD_DELETE 0x85
#define FS_CMD_MAKE_FOLDER 0x86
#define FS_REP_RESULT 0x90
#define FS_REP_READ_DATA 0x91
#define FS_REP_ENTRY 0x92
#define FS_EV_CARD_CHANGED 0x80

enum fs_status {
    FS_OK = 0,
    FS_END_OF_LIST = 1,
    FS_NO_CARD = 2,
    FS_FULL = 3,
    FS_NOT_FOUND = 4,
    FS_BAD_NAME = 5,
    FS_EXISTS = 6,
    FS_IO_ERROR = 7,
    FS_NOT_EMPTY = 8,
    FS_IS_FOLDER = 9,
    FS_OFFSET_MISMATCH = 10,
    FS_BAD_ARGUMENT = 11,
};

typedef struct {
    uint32_t size;
    uint32_t modified; // seconds since 1970
    bool is_folder;
} fs_stat_t;

/** File system calls on host paths; each returns 0 (or a byte count) or -errno. */
typedef struct {
    int (*stat)(void *ctx, const char *path, fs_stat_t *st);
    /** Open for appending (created if missing), one write, flush to the card, close. Returns the
     * bytes written (fewer than len: the card is full) or -errno. */
    int (*append)(void *ctx, const char *path, const uint8_t *data, unsigned len);
    int (*read)(void *ctx, const char *path, uint32_t offset, uint8_t *buf, unsigned len);
    /** The smallest valid 8.3 entry name of folder `dir` after `after` ("" for the first one):
     * 0 with `out` (13 bytes) set, 1 when there is none, or -errno. */
    int (*next_name)(void *ctx, const char *dir, const char *after, char *out);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*remove_file)(void *ctx, const char *path);
    int (*remove_folder)(void *ctx, const char *path);
    int (*make_folder)(void *ctx, const char *path);
    int (*space)(void *ctx, uint64_t *free_bytes, uint64_t *total_bytes);
} fs_ops_t;

typedef int (*fs_emit_fn)(void *ctx, uint16_t code, const void *data, unsigned len);

typedef struct {
    const fs_ops_t *ops;
    void *ops_ctx;
    fs_emit_fn emit;
    void *emit_ctx;
    char root[24]; // mount point, e.g. "/sdcard"
    bool present; // a card is mounted
    // list cursor: the entry last listed, so that listing index 0, 1, 2... reads each folder once
    bool cursor_valid;
    uint16_t cursor_index;
    char cursor_dir[FS_HOST_PATH];
    char cursor_name[13];
} fs_core_t;

void fs_init(fs_core_t *c, const fs_ops_t *ops, void *ops_ctx, const char *root, fs_emit_fn emit,
             void *emit_ctx);
/** One request of the contract; every request is answered. */
void fs_command(fs_core_t *c, uint16_t code, const uint8_t *data, unsigned len);
/** The card was mounted or lost: fs_card_changed reports the event. */
void fs_card_changed(fs_core_t *c, bool present);

/** True when `name` (len bytes) is an 8.3 short name of the contract (any case). */
bool fs_valid_name(const char *name, unsigned len);
/** Card path (len bytes, not NUL-terminated) → host path under root, upper case; 0 or FS_BAD_NAME.
 * `last` (13 bytes, may be NULL) receives the last name ("" for the root). */
int fs_host_path(const char *root, const char *path, unsigned len, char *out, char *last);
/** The contract's status for an errno value of the file system. */
uint16_t fs_status_from_errno(int e);
