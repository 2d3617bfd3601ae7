/*
 * fs.c - private files for the credential caches: atomic 0600 writes,
 * 0700 folders, bounded non-blocking reads. See fs.h. Lua-free.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "fs.h"

static void fs_msg(char *err, size_t errlen, const char *what, int e)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s", what, strerror(e));
}

static int fs_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int fs_write_private(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    static const char suffix[] = ".tmp-XXXXXX";
    size_t plen = strlen(path);
    char *tmp;
    int fd, e;

    tmp = malloc(plen + sizeof suffix);
    if (!tmp) {
        fs_msg(err, errlen, "out of memory", ENOMEM);
        return FS_ERROR;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);
    /* mkstemp: O_CREAT|O_EXCL, mode 0600 (POSIX.1-2008) */
    fd = mkstemp(tmp);
    if (fd < 0) {
        fs_msg(err, errlen, "cannot create a temporary file", errno);
        free(tmp);
        return FS_ERROR;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fchmod(fd, 0600) != 0 || fs_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        fs_msg(err, errlen, "cannot write the temporary file", e);
        return FS_ERROR;
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(tmp);
        free(tmp);
        fs_msg(err, errlen, "cannot write the temporary file", e);
        return FS_ERROR;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        free(tmp);
        fs_msg(err, errlen, "cannot rename the temporary file", e);
        return FS_ERROR;
    }
    free(tmp);
    return FS_OK;
}

int fs_mkdir_private(const char *path, char *err, size_t errlen)
{
    size_t plen = strlen(path), i;
    char *p;
    struct stat st;

    if (plen == 0) {
        fs_msg(err, errlen, "empty folder name", EINVAL);
        return FS_ERROR;
    }
    p = malloc(plen + 1);
    if (!p) {
        fs_msg(err, errlen, "out of memory", ENOMEM);
        return FS_ERROR;
    }
    memcpy(p, path, plen + 1);
    /* each parent, then the folder itself */
    for (i = 1; i <= plen; i++) {
        if (i < plen && p[i] != '/') continue;
        if (i < plen && p[i - 1] == '/') continue;   /* "//" */
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            fs_msg(err, errlen, "cannot create the folder", e);
            return FS_ERROR;
        }
        if (i < plen) p[i] = '/';
    }
    free(p);
    if (stat(path, &st) != 0) {
        fs_msg(err, errlen, "cannot create the folder", errno);
        return FS_ERROR;
    }
    if (!S_ISDIR(st.st_mode)) {
        fs_msg(err, errlen, "not a folder", ENOTDIR);
        return FS_ERROR;
    }
    return FS_OK;
}

int fs_read_bounded(const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    *len = 0;
    if (fd < 0) {
        int e = errno;
        fs_msg(err, errlen, "cannot open", e);
        return (e == ENOENT || e == ENOTDIR) ? FS_MISSING : FS_ERROR;
    }
    if (fstat(fd, &st) != 0) {
        fs_msg(err, errlen, "cannot stat", errno);
        close(fd);
        return FS_ERROR;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        fs_msg(err, errlen, "not a regular file", EINVAL);
        return FS_NOT_FILE;
    }
    if ((unsigned long long)st.st_size > (unsigned long long)cap) {
        close(fd);
        if (err && errlen) snprintf(err, errlen, "larger than %zu bytes", cap);
        return FS_TOO_LARGE;
    }
    /* read to EOF; a file that grew past cap meanwhile is too large */
    for (;;) {
        char extra;
        ssize_t n;
        if (got < cap) n = read(fd, buf + got, cap - got);
        else n = read(fd, &extra, 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            fs_msg(err, errlen, "cannot read", errno);
            close(fd);
            return FS_ERROR;
        }
        if (n == 0) break;
        if (got >= cap) {
            close(fd);
            if (err && errlen) snprintf(err, errlen, "larger than %zu bytes", cap);
            return FS_TOO_LARGE;
        }
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return FS_OK;
}
