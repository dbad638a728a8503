// File Store: the contract's requests over fs_ops_t.
#include "filestore.h"
#include "nat_wire.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>

static bool short_char(char ch) {
    if (ch >= 'a' && ch <= 'z')
        ch -= 32;
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || (ch && strchr("_-~!#$%&()@^", ch));
}

bool fs_valid_name(const char *name, unsigned len) {
    unsigned base = 0;
    while (base < len && name[base] != '.')
        base++;
    if (base < 1 || base > 8)
        return false;
    for (unsigned i = 0; i < base; i++)
        if (!short_char(name[i]))
            return false;
    if (base == len)
        return true;
    unsigned ext = len - base - 1;
    if (ext < 1 || ext > 3)
        return false;
    for (unsigned i = base + 1; i < len; i++)
        if (!short_char(name[i]))
            return false;
    return true;
}

int fs_host_path(const char *root, const char *path, unsigned len, char *out, char *last) {
    if (len == 0 || len > FS_MAX_PATH || path[0] != '/' || memchr(path, 0, len))
        return FS_BAD_NAME;
    if (len > 1 && path[len - 1] == '/')
        len--; // "/LOG/" names the folder "/LOG"
    unsigned o = strlen(root);
    memcpy(out, root, o);
    if (last)
        last[0] = 0;
    unsigned i = 1;
    while (i < len) {
        unsigned j = i;
        while (j < len && path[j] != '/')
            j++;
        if (!fs_valid_name(path + i, j - i))
            return FS_BAD_NAME;
        out[o++] = '/';
        for (unsigned k = i; k < j; k++) {
            char ch = path[k];
            out[o++] = (ch >= 'a' && ch <= 'z') ? ch - 32 : ch;
        }
        if (last) {
            memcpy(last, out + o - (j - i), j - i);
            last[j - i] = 0;
        }
        i = j + 1;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = 0;
    return FS_OK;
}

uint16_t fs_status_from_errno(int e) {
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return FS_NOT_FOUND;
    case ENOSPC:
        return FS_FULL;
    case EEXIST:
        return FS_EXISTS;
    case ENOTEMPTY:
        return FS_NOT_EMPTY;
    case EISDIR:
        return FS_IS_FOLDER;
    default:
        return FS_IO_ERROR;
    }
}

void fs_init(fs_core_t *c, const fs_ops_t *ops, void *ops_ctx, const char *root, fs_emit_fn emit,
             void *emit_ctx) {
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->ops_ctx = ops_ctx;
    c->emit = emit;
    c->emit_ctx = emit_ctx;
    snprintf(c->root, sizeof(c->root), "%s", root);
}

void fs_card_changed(fs_core_t *c, bool present) {
    c->present = present;
    c->cursor_valid = false;
    uint8_t p = present;
    c->emit(c->emit_ctx, NAT_EVENT(FS_EV_CARD_CHANGED), &p, 1);
}

static void result(fs_core_t *c, uint16_t req, uint16_t status, uint32_t value) {
    uint8_t p[8];
    nat_put_u32(p, value);
    nat_put_u16(p + 4, req);
    nat_put_u16(p + 6, status);
    c->emit(c->emit_ctx, FS_REP_RESULT, p, sizeof(p));
}

static void read_data(fs_core_t *c, uint32_t offset, uint16_t req, uint16_t status,
                      const uint8_t *data, unsigned n) {
    uint8_t p[8 + FS_MAX_READ];
    nat_put_u32(p, offset);
    nat_put_u16(p + 4, req);
    nat_put_u16(p + 6, status);
    memcpy(p + 8, data, n);
    c->emit(c->emit_ctx, FS_REP_READ_DATA, p, 8 + n);
}

static void entry(fs_core_t *c, uint16_t req, uint16_t status, uint16_t index, const fs_stat_t *st,
                  const char *name) {
    uint8_t p[15 + 13];
    unsigned nl = name ? strlen(name) : 0;
    nat_put_u32(p, st ? st->size : 0);
    nat_put_u32(p + 4, st ? st->modified : 0);
    nat_put_u16(p + 8, index);
    nat_put_u16(p + 10, req);
    nat_put_u16(p + 12, status);
    p[14] = st && st->is_folder;
    memcpy(p + 15, name, nl);
    c->emit(c->emit_ctx, FS_REP_ENTRY, p, 15 + nl);
}

/** Card path → host path; the status when it cannot be used. */
static int resolve(fs_core_t *c, const uint8_t *path, unsigned len, char *out, char *last) {
    if (!c->present)
        return FS_NO_CARD;
    while (len && path[len - 1] == 0)
        len--; // a `string` field may carry the terminator
    return fs_host_path(c->root, (const char *)path, len, out, last);
}

static int status_of(int r) {
    return fs_status_from_errno(-r);
}

static void cmd_append(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 6)
        return; // no request number to answer
    uint32_t expected = nat_get_u32(d);
    uint16_t req = nat_get_u16(d + 4);
    const uint8_t *nul = memchr(d + 6, 0, len - 6);
    if (!nul)
        return result(c, req, FS_BAD_ARGUMENT, 0);
    char host[FS_HOST_PATH];
    int st = resolve(c, d + 6, nul - (d + 6), host, NULL);
    if (st)
        return result(c, req, st, 0);
    const uint8_t *bytes = nul + 1;
    unsigned n = len - (bytes - d);
    fs_stat_t fst;
    uint32_t size = 0;
    int r = c->ops->stat(c->ops_ctx, host, &fst);
    if (r == 0) {
        if (fst.is_folder)
            return result(c, req, FS_IS_FOLDER, 0);
        size = fst.size;
    } else if (r != -ENOENT) {
        return result(c, req, status_of(r), 0);
    }
    if (expected != FS_ANY_SIZE && expected != size)
        return result(c, req, FS_OFFSET_MISMATCH, size);
    uint64_t free_b = 0, total_b = 0;
    if (c->ops->space(c->ops_ctx, &free_b, &total_b) == 0 && free_b < n)
        return result(c, req, FS_FULL, size);
    c->cursor_valid = false;
    r = c->ops->append(c->ops_ctx, host, bytes, n);
    if (r < 0)
        return result(c, req, status_of(r), size);
    if ((unsigned)r < n) {
        // the card filled up during the write: the file keeps what went in, the client is told
        return result(c, req, FS_FULL, size + r);
    }
    result(c, req, FS_OK, size + n);
}

static void cmd_read(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 7)
        return;
    uint32_t offset = nat_get_u32(d);
    uint16_t req = nat_get_u16(d + 4);
    unsigned want = d[6] > FS_MAX_READ ? FS_MAX_READ : d[6];
    char host[FS_HOST_PATH];
    int st = resolve(c, d + 7, len - 7, host, NULL);
    if (st)
        return read_data(c, offset, req, st, NULL, 0);
    fs_stat_t fst;
    int r = c->ops->stat(c->ops_ctx, host, &fst);
    if (r < 0)
        return read_data(c, offset, req, status_of(r), NULL, 0);
    if (fst.is_folder)
        return read_data(c, offset, req, FS_IS_FOLDER, NULL, 0);
    uint8_t buf[FS_MAX_READ];
    r = c->ops->read(c->ops_ctx, host, offset, buf, want);
    if (r < 0)
        return read_data(c, offset, req, status_of(r), NULL, 0);
    read_data(c, offset, req, FS_OK, buf, r);
}

static void describe(fs_core_t *c, const char *host, const char *name, uint16_t index, uint16_t req) {
    fs_stat_t st;
    int r = c->ops->stat(c->ops_ctx, host, &st);
    if (r < 0)
        return entry(c, req, status_of(r), index, NULL, NULL);
    if (st.is_folder)
        st.size = 0;
    entry(c, req, FS_OK, index, &st, name);
}

static void cmd_list(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 4)
        return;
    uint16_t index = nat_get_u16(d);
    uint16_t req = nat_get_u16(d + 2);
    char dir[FS_HOST_PATH];
    int st = resolve(c, d + 4, len - 4, dir, NULL);
    if (st)
        return entry(c, req, st, index, NULL, NULL);
    fs_stat_t dst;
    int r = c->ops->stat(c->ops_ctx, dir, &dst);
    if (r < 0)
        return entry(c, req, status_of(r), index, NULL, NULL);
    if (!dst.is_folder)
        return entry(c, req, FS_NOT_FOUND, index, NULL, NULL);
    // start from the cursor when it is this folder at or before `index`, else from the first
    char name[13] = "";
    int at = -1;
    if (c->cursor_valid && strcmp(c->cursor_dir, dir) == 0 && c->cursor_index <= index) {
        at = c->cursor_index;
        strcpy(name, c->cursor_name);
    }
    c->cursor_valid = false;
    while (at < (int)index) {
        r = c->ops->next_name(c->ops_ctx, dir, name, name);
        if (r < 0)
            return entry(c, req, status_of(r), index, NULL, NULL);
        if (r > 0)
            return entry(c, req, FS_END_OF_LIST, index, NULL, NULL);
        at++;
    }
    c->cursor_valid = true;
    c->cursor_index = index;
    strcpy(c->cursor_dir, dir);
    strcpy(c->cursor_name, name);
    char host[FS_HOST_PATH + 14];
    snprintf(host, sizeof(host), "%s/%s", strcmp(dir, "/") ? dir : "", name);
    describe(c, host, name, index, req);
}

static void cmd_stat(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 2)
        return;
    uint16_t req = nat_get_u16(d);
    char host[FS_HOST_PATH], last[13];
    int st = resolve(c, d + 2, len - 2, host, last);
    if (st)
        return entry(c, req, st, 0, NULL, NULL);
    describe(c, host, last, 0, req);
}

static void cmd_rename(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 2)
        return;
    uint16_t req = nat_get_u16(d);
    const uint8_t *from = d + 2;
    const uint8_t *nul = memchr(from, 0, len - 2);
    if (!nul)
        return result(c, req, FS_BAD_ARGUMENT, 0);
    const uint8_t *to = nul + 1;
    unsigned to_len = len - (to - d);
    char a[FS_HOST_PATH], b[FS_HOST_PATH];
    int st = resolve(c, from, nul - from, a, NULL);
    if (!st)
        st = resolve(c, to, to_len, b, NULL);
    if (st)
        return result(c, req, st, 0);
    fs_stat_t fst;
    int r = c->ops->stat(c->ops_ctx, a, &fst);
    if (r < 0)
        return result(c, req, status_of(r), 0);
    r = c->ops->stat(c->ops_ctx, b, &fst);
    if (r == 0)
        return result(c, req, FS_EXISTS, 0);
    if (r != -ENOENT)
        return result(c, req, status_of(r), 0);
    c->cursor_valid = false;
    r = c->ops->rename(c->ops_ctx, a, b);
    result(c, req, r < 0 ? status_of(r) : FS_OK, 0);
}

static void cmd_delete(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 2)
        return;
    uint16_t req = nat_get_u16(d);
    char host[FS_HOST_PATH], last[13];
    int st = resolve(c, d + 2, len - 2, host, last);
    if (st)
        return result(c, req, st, 0);
    if (!last[0])
        return result(c, req, FS_BAD_NAME, 0); // the card's root folder stays
    fs_stat_t fst;
    int r = c->ops->stat(c->ops_ctx, host, &fst);
    if (r < 0)
        return result(c, req, status_of(r), 0);
    c->cursor_valid = false;
    if (fst.is_folder) {
        // FAT says "denied" for a folder with files: ask first, so the answer is `not_empty`
        char first[13];
        r = c->ops->next_name(c->ops_ctx, host, "", first);
        if (r < 0)
            return result(c, req, status_of(r), 0);
        if (r == 0)
            return result(c, req, FS_NOT_EMPTY, 0);
        r = c->ops->remove_folder(c->ops_ctx, host);
    } else {
        r = c->ops->remove_file(c->ops_ctx, host);
    }
    result(c, req, r < 0 ? status_of(r) : FS_OK, 0);
}

static void cmd_make_folder(fs_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 2)
        return;
    uint16_t req = nat_get_u16(d);
    char host[FS_HOST_PATH];
    int st = resolve(c, d + 2, len - 2, host, NULL);
    if (st)
        return result(c, req, st, 0);
    fs_stat_t fst;
    int r = c->ops->stat(c->ops_ctx, host, &fst);
    if (r == 0)
        return result(c, req, fst.is_folder ? FS_OK : FS_EXISTS, 0);
    if (r != -ENOENT)
        return result(c, req, status_of(r), 0);
    c->cursor_valid = false;
    r = c->ops->make_folder(c->ops_ctx, host);
    result(c, req, r < 0 ? status_of(r) : FS_OK, 0);
}

void fs_command(fs_core_t *c, uint16_t code, const uint8_t *data, unsigned len) {
    switch (code) {
    case FS_CMD_APPEND:
        return cmd_append(c, data, len);
    case FS_CMD_READ:
        return cmd_read(c, data, len);
    case FS_CMD_LIST:
        return cmd_list(c, data, len);
    case FS_CMD_STAT:
        return cmd_stat(c, data, len);
    case FS_CMD_RENAME:
        return cmd_rename(c, data, len);
    case FS_CMD_DELETE:
        return cmd_delete(c, data, len);
    case FS_CMD_MAKE_FOLDER:
        return cmd_make_folder(c, data, len);
    case NAT_GET(FS_REG_CARD_PRESENT): {
        uint8_t p = c->present;
        c->emit(c->emit_ctx, code, &p, 1);
        return;
    }
    case NAT_GET(FS_REG_FREE_SPACE):
    case NAT_GET(FS_REG_TOTAL_SPACE): {
        uint64_t free_b = 0, total_b = 0;
        if (c->present && c->ops->space(c->ops_ctx, &free_b, &total_b) < 0)
            free_b = total_b = 0;
        uint8_t p[8];
        nat_put_u64(p, code == NAT_GET(FS_REG_FREE_SPACE) ? free_b : total_b);
        c->emit(c->emit_ctx, code, p, 8);
        return;
    }
    }
}
