/*
 * fs.h - private files for the credential caches (~/.aws/cli/cache): a
 * file only its owner can read (mode 0600), written atomically; folders
 * made with mode 0700; a bounded read that never blocks on a FIFO.
 * Lua-free: each function returns FS_OK or a failure code and writes a
 * message (naming no file contents) to err.
 */
#ifndef AWSC_FS_H
#define AWSC_FS_H

#include <stddef.h>

enum { FS_OK = 0, FS_ERROR = -1, FS_MISSING = -2, FS_TOO_LARGE = -3, FS_NOT_FILE = -4 };

/* Writes data to path through a temporary file in the same folder
 * (created 0600 with O_EXCL, written, fsync'ed, renamed over path), so a
 * reader sees the old file or the new one, never a part. */
int fs_write_private(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* Creates path and its missing parents with mode 0700; FS_OK when it
 * already is a folder. */
int fs_mkdir_private(const char *path, char *err, size_t errlen);

/* Reads a regular file of at most cap bytes into buf (*len set).
 * FS_MISSING when there is no such file, FS_TOO_LARGE above cap,
 * FS_NOT_FILE for a folder, FIFO or device (opened non-blocking). */
int fs_read_bounded(const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen);

#endif
