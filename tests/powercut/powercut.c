/*
 * A power cut for tests: an LD_PRELOAD library that keeps, beside the files it watches, the
 * image a disk would hold after losing power: only what an fsync or fdatasync made durable.
 *
 * Watched: files whose name starts with $TF_POWERCUT_PREFIX (for example "ledger.sqlite",
 * which also matches its -wal and -shm). Every write to them is noted as a dirty range of the
 * file (of the file, not the descriptor: an fsync makes everything written to the file
 * durable, whichever descriptor wrote it). An fsync or fdatasync copies the file's dirty
 * ranges into $TF_POWERCUT_SHADOW/<name> and gives that image the file's size; an unlink
 * removes the image. After the process is killed, the test puts the images in place of the
 * files (a file with no image was never synced, and is gone): what a power cut leaves.
 *
 * Not modelled: writes through mmap (SQLite maps only its -shm, which it rebuilds after a
 * crash), renames, and directory syncs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_FILES 16

struct range {
    off_t offset;
    size_t length;
};

struct watched {
    char name[256];
    struct range *dirty;
    size_t count, capacity;
};

static struct watched files[MAX_FILES];
static size_t file_count;
/* Descriptor -> index + 1 into files; 0 when not watched. */
static int fd_file[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The next definition of `name` (libc's), looked up once. */
#define REAL(name) \
    static __typeof__(name) *real_##name; \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static const char *prefix(void) { return getenv("TF_POWERCUT_PREFIX"); }

/* The watched file's index + 1 for a path opened, 0 if it is not watched. */
static int watch(const char *path) {
    const char *wanted = prefix();
    if (!wanted || !path) return 0;
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (strncmp(name, wanted, strlen(wanted)) != 0 || strlen(name) >= sizeof files[0].name)
        return 0;
    pthread_mutex_lock(&lock);
    int found = 0;
    for (size_t i = 0; i < file_count; i++)
        if (strcmp(files[i].name, name) == 0) found = (int)i + 1;
    if (!found && file_count < MAX_FILES) {
        strcpy(files[file_count].name, name);
        found = (int)++file_count;
    }
    pthread_mutex_unlock(&lock);
    if (!found) {
        fprintf(stderr, "powercut: more than %d watched files\n", MAX_FILES);
        abort();
    }
    return found;
}

static void opened(int fd, const char *path) {
    if (fd < 0) return;
    if (fd >= MAX_FDS) {
        fprintf(stderr, "powercut: descriptor %d beyond %d\n", fd, MAX_FDS);
        abort();
    }
    fd_file[fd] = watch(path);
}

static void note(int fd, off_t offset, ssize_t length) {
    if (fd < 0 || fd >= MAX_FDS || !fd_file[fd] || length <= 0) return;
    pthread_mutex_lock(&lock);
    struct watched *file = &files[fd_file[fd] - 1];
    struct range *last = file->count ? &file->dirty[file->count - 1] : NULL;
    if (last && last->offset + (off_t)last->length == offset) {
        last->length += (size_t)length;
    } else {
        if (file->count == file->capacity) {
            file->capacity = file->capacity ? file->capacity * 2 : 64;
            file->dirty = realloc(file->dirty, file->capacity * sizeof *file->dirty);
            if (!file->dirty) abort();
        }
        file->dirty[file->count++] = (struct range){offset, (size_t)length};
    }
    pthread_mutex_unlock(&lock);
}

static void image_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", getenv("TF_POWERCUT_SHADOW"), name);
}

/* What an fsync makes durable: the file's dirty ranges, read back, into its image. */
static void make_durable(int fd) {
    if (fd < 0 || fd >= MAX_FDS || !fd_file[fd]) return;
    pthread_mutex_lock(&lock);
    struct watched *file = &files[fd_file[fd] - 1];
    char path[4096];
    image_path(path, sizeof path, file->name);
    REAL(open);
    int image = real_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (image < 0) {
        perror("powercut: image");
        abort();
    }
    char *buffer = malloc(1 << 20);
    for (size_t i = 0; i < file->count; i++) {
        off_t at = file->dirty[i].offset;
        size_t left = file->dirty[i].length;
        while (left > 0) {
            size_t piece = left < (1 << 20) ? left : (1 << 20);
            ssize_t got = pread(fd, buffer, piece, at);
            if (got <= 0) break; /* truncated since: nothing there to keep */
            if (pwrite(image, buffer, (size_t)got, at) != got) abort();
            at += got;
            left -= (size_t)got;
        }
    }
    free(buffer);
    file->count = 0;
    struct stat status;
    if (fstat(fd, &status) == 0 && ftruncate(image, status.st_size) != 0) abort();
    close(image);
    pthread_mutex_unlock(&lock);
}

int open(const char *path, int flags, ...) {
    REAL(open);
    va_list args;
    va_start(args, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, mode_t) : 0;
    va_end(args);
    int fd = real_open(path, flags, mode);
    opened(fd, path);
    return fd;
}

int open64(const char *path, int flags, ...) {
    REAL(open64);
    va_list args;
    va_start(args, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, mode_t) : 0;
    va_end(args);
    int fd = real_open64(path, flags, mode);
    opened(fd, path);
    return fd;
}

int openat(int dir, const char *path, int flags, ...) {
    REAL(openat);
    va_list args;
    va_start(args, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, mode_t) : 0;
    va_end(args);
    int fd = real_openat(dir, path, flags, mode);
    opened(fd, path);
    return fd;
}

int openat64(int dir, const char *path, int flags, ...) {
    REAL(openat64);
    va_list args;
    va_start(args, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, mode_t) : 0;
    va_end(args);
    int fd = real_openat64(dir, path, flags, mode);
    opened(fd, path);
    return fd;
}

int close(int fd) {
    REAL(close);
    if (fd >= 0 && fd < MAX_FDS) fd_file[fd] = 0;
    return real_close(fd);
}

ssize_t write(int fd, const void *data, size_t length) {
    REAL(write);
    ssize_t written = real_write(fd, data, length);
    if (written > 0 && fd >= 0 && fd < MAX_FDS && fd_file[fd])
        note(fd, lseek(fd, 0, SEEK_CUR) - written, written);
    return written;
}

ssize_t pwrite(int fd, const void *data, size_t length, off_t offset) {
    REAL(pwrite);
    ssize_t written = real_pwrite(fd, data, length, offset);
    note(fd, offset, written);
    return written;
}

ssize_t pwrite64(int fd, const void *data, size_t length, off_t offset) {
    REAL(pwrite64);
    ssize_t written = real_pwrite64(fd, data, length, offset);
    note(fd, offset, written);
    return written;
}

int fsync(int fd) {
    REAL(fsync);
    int result = real_fsync(fd);
    if (result == 0) make_durable(fd);
    return result;
}

int fdatasync(int fd) {
    REAL(fdatasync);
    int result = real_fdatasync(fd);
    if (result == 0) make_durable(fd);
    return result;
}

int unlink(const char *path) {
    REAL(unlink);
    int result = real_unlink(path);
    if (result == 0 && watch(path)) {
        const char *slash = strrchr(path, '/');
        char image[4096];
        image_path(image, sizeof image, slash ? slash + 1 : path);
        real_unlink(image);
    }
    return result;
}
