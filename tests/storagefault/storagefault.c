/*
 * A failing disk for tests: an LD_PRELOAD library that makes writes and syncs of the files it
 * watches fail as a dying device (EIO) or a file system the kernel remounted read-only (EROFS)
 * does, while the test says so, and lets them through again when it stops.
 *
 * Watched: files whose name starts with $TF_STORAGEFAULT_PREFIX (for example "ledger.sqlite",
 * which also matches its -wal and -shm). The fault in force is the first line of the file
 * $TF_STORAGEFAULT_CONTROL: "EIO" or "EROFS"; no file, or anything else, is no fault. Reads
 * are left alone: the data already written stays readable, as it does on a file system
 * remounted read-only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The next definition of `name` (libc's), looked up once. */
#define REAL(name) \
    static __typeof__(name) *real_##name; \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* Whether descriptor `fd` names a watched file. */
static int watched(int fd) {
    const char *wanted = getenv("TF_STORAGEFAULT_PREFIX");
    if (!wanted || fd < 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, path, sizeof path - 1);
    if (length <= 0) return 0;
    path[length] = '\0';
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    return strncmp(name, wanted, strlen(wanted)) == 0;
}

/* The errno the test asks for on `fd`'s writes now, 0 for none. */
static int fault(int fd) {
    const char *control = getenv("TF_STORAGEFAULT_CONTROL");
    if (!control || !watched(fd)) return 0;
    int saved = errno;
    int file = open(control, O_RDONLY | O_CLOEXEC);
    char line[16] = {0};
    if (file >= 0) {
        REAL(read);
        if (real_read(file, line, sizeof line - 1) < 0) line[0] = '\0';
        REAL(close);
        real_close(file);
    }
    errno = saved;
    if (strncmp(line, "EROFS", 5) == 0) return EROFS;
    if (strncmp(line, "EIO", 3) == 0) return EIO;
    return 0;
}

#define FAIL_IF_FAULTED(fd) \
    do { \
        int failure = fault(fd); \
        if (failure) { \
            errno = failure; \
            return -1; \
        } \
    } while (0)

ssize_t write(int fd, const void *data, size_t length) {
    REAL(write);
    FAIL_IF_FAULTED(fd);
    return real_write(fd, data, length);
}

ssize_t pwrite(int fd, const void *data, size_t length, off_t offset) {
    REAL(pwrite);
    FAIL_IF_FAULTED(fd);
    return real_pwrite(fd, data, length, offset);
}

ssize_t pwrite64(int fd, const void *data, size_t length, off_t offset) {
    REAL(pwrite64);
    FAIL_IF_FAULTED(fd);
    return real_pwrite64(fd, data, length, offset);
}

int ftruncate(int fd, off_t length) {
    REAL(ftruncate);
    FAIL_IF_FAULTED(fd);
    return real_ftruncate(fd, length);
}

int fsync(int fd) {
    REAL(fsync);
    FAIL_IF_FAULTED(fd);
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync);
    FAIL_IF_FAULTED(fd);
    return real_fdatasync(fd);
}
