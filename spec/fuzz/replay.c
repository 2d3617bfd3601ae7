/*
 * replay.c - a main() for the fuzz harnesses without libFuzzer: runs every
 * file named on the command line (directories are walked one level) once
 * through LLVMFuzzerTestOneInput. `make fuzz-replay` links each harness
 * with this and AddressSanitizer/UBSan using the ordinary C compiler, so
 * the seeds and any crasher under spec/fuzz/corpus/ are replayed by
 * `make test` without clang.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;
    if (!f) { perror(path); return -1; }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    buf = malloc((size_t)n + 1);   /* an exact-size copy, so overreads are caught */
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return -1; }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int i, count = 0, failed = 0;
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { perror(argv[i]); failed++; continue; }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            char **names = NULL;
            size_t nn = 0, j;
            if (!d) { perror(argv[i]); failed++; continue; }
            while ((e = readdir(d)) != NULL) {
                char **grown;
                if (e->d_name[0] == '.') continue;
                grown = realloc(names, (nn + 1) * sizeof *names);
                if (!grown) abort();
                names = grown;
                names[nn] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
                if (!names[nn]) abort();
                sprintf(names[nn], "%s/%s", argv[i], e->d_name);
                nn++;
            }
            closedir(d);
            qsort(names, nn, sizeof *names, cmp);
            for (j = 0; j < nn; j++) {
                struct stat fs;
                if (stat(names[j], &fs) == 0 && S_ISREG(fs.st_mode)) {
                    if (run_file(names[j]) != 0) failed++;
                    else count++;
                }
                free(names[j]);
            }
            free(names);
        } else {
            if (run_file(argv[i]) != 0) failed++;
            else count++;
        }
    }
    printf("%s: %d inputs replayed%s\n", argv[0], count, failed ? ", some unreadable" : "");
    return failed ? 1 : 0;
}
