#include "fs_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef ESP_PLATFORM
#include "esp_vfs_fat.h"
#else
#include <sys/statvfs.h>
#endif

static int fail(void) {
    return errno ? -errno : -EIO;
}

static int p_stat(void *ctx, const char *path, fs_stat_t *st) {
    (void)ctx;
    struct stat s;
    if (stat(path, &s) < 0) {
        int e = errno;
        // FATFS cannot stat the root of a volume: a folder that opens is a folder
        DIR *d = opendir(path);
        if (!d)
            return e ? -e : -EIO;
        closedir(d);
        memset(st, 0, sizeof(*st));
        st->is_folder = true;
        return 0;
    }
    st->size = S_ISDIR(s.st_mode) ? 0 : (uint32_t)s.st_size;
    st->modified = s.st_mtime > 0 ? (uint32_t)s.st_mtime : 0;
    st->is_folder = S_ISDIR(s.st_mode);
    return 0;
}

static int p_append(void *ctx, const char *path, const uint8_t *data, unsigned len) {
    (void)ctx;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        return fail();
    int n = len ? (int)write(fd, data, len) : 0;
    int e = n < 0 ? errno : 0;
    if (n >= 0 && fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (n < 0 || (e && n == (int)len && e != ENOSPC))
        return e ? -e : -EIO;
    return n;
}

static int p_read(void *ctx, const char *path, uint32_t offset, uint8_t *buf, unsigned len) {
    (void)ctx;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fail();
    int n = -1;
    if (lseek(fd, offset, SEEK_SET) >= 0)
        n = (int)read(fd, buf, len);
    int e = errno;
    close(fd);
    return n < 0 ? (e ? -e : -EIO) : n;
}

static int p_next_name(void *ctx, const char *dir, const char *after, char *out) {
    (void)ctx;
    DIR *d = opendir(dir);
    if (!d)
        return fail();
    char best[13] = "";
    errno = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        unsigned n = strlen(ent->d_name);
        if (!fs_valid_name(ent->d_name, n))
            continue; // ".", "..", long names of a PC: not part of the store
        char up[13];
        for (unsigned i = 0; i <= n; i++) {
            char ch = ent->d_name[i];
            up[i] = (ch >= 'a' && ch <= 'z') ? ch - 32 : ch;
        }
        if (strcmp(up, after) > 0 && (!best[0] || strcmp(up, best) < 0))
            strcpy(best, up);
    }
    int e = errno;
    closedir(d);
    if (e)
        return -e;
    if (!best[0])
        return 1;
    strcpy(out, best);
    return 0;
}

static int p_rename(void *ctx, const char *from, const char *to) {
    (void)ctx;
    return rename(from, to) < 0 ? fail() : 0;
}

static int p_remove_file(void *ctx, const char *path) {
    (void)ctx;
    return unlink(path) < 0 ? fail() : 0;
}

static int p_remove_folder(void *ctx, const char *path) {
    (void)ctx;
    return rmdir(path) < 0 ? fail() : 0;
}

static int p_make_folder(void *ctx, const char *path) {
    (void)ctx;
    return mkdir(path, 0755) < 0 ? fail() : 0;
}

static int p_space(void *ctx, uint64_t *free_b, uint64_t *total_b) {
#ifdef ESP_PLATFORM
    const char *root = ctx ? (const char *)ctx : "/sdcard";
    uint64_t total = 0, free_ = 0;
    if (esp_vfs_fat_info(root, &total, &free_) != ESP_OK)
        return -EIO;
    *free_b = free_;
    *total_b = total;
    return 0;
#else
    const char *root = ctx ? (const char *)ctx : ".";
    struct statvfs s;
    if (statvfs(root, &s) < 0)
        return fail();
    *free_b = (uint64_t)s.f_bavail * s.f_frsize;
    *total_b = (uint64_t)s.f_blocks * s.f_frsize;
    return 0;
#endif
}

const fs_ops_t fs_posix_ops = {
    .stat = p_stat,
    .append = p_append,
    .read = p_read,
    .next_name = p_next_name,
    .rename = p_rename,
    .remove_file = p_remove_file,
    .remove_folder = p_remove_folder,
    .make_folder = p_make_folder,
    .space = p_space,
};
