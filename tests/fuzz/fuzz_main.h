/*
 * fuzz_main.h — what every libFuzzer driver of tests/fuzz/ shares. Include it once, after
 * the driver's LLVMFuzzerTestOneInput and LLVMFuzzerInitialize, with FUZZ_NAME defined
 * ("http": the corpus is tests/fuzz/corpus/http/).
 *
 * Built with clang -fsanitize=fuzzer -DMK_LIBFUZZER (scripts/fuzz), libFuzzer supplies
 * main(). Built with gcc (make check, and under ASan + UBSan in scripts/test), the main()
 * below replays every file of the corpus directories given (default: the driver's own),
 * in name order, each followed by deterministic mutations of it (a few bytes changed,
 * the length cut): FUZZ_MUTATION_BUDGET runs (default 20000) shared among the files, or
 * $FUZZ_REPLAY_MUTATIONS per file. It prints "N passed, 0 failed" for scripts/test's
 * summary. A broken promise aborts (FUZZ_ASSERT), and so does the sanitizer's finding.
 */
#ifndef MK_FUZZ_MAIN_H
#define MK_FUZZ_MAIN_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abort with a message: a driver's check of a parser's promise failed. */
#define FUZZ_ASSERT(cond, what)                                                                                  \
    do {                                                                                                         \
        if (!(cond)) {                                                                                           \
            fprintf(stderr, "%s:%d: broken promise: %s (%s)\n", __FILE__, __LINE__, what, #cond);                \
            abort();                                                                                             \
        }                                                                                                        \
    } while (0)

/* A NUL-terminated copy of n bytes (the caller frees it). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/*
 * Split s (NUL-terminated, modified in place) at each sep into at most max fields; the
 * last field keeps the rest. Returns the number of fields (>= 1); missing ones are "".
 */
static inline size_t
fuzz_fields(char *s, char sep, char **out, size_t max)
{
    size_t n = 0;
    out[n++] = s;
    while (n < max) {
        char *p = strchr(out[n - 1], sep);
        if (p == NULL) {
            break;
        }
        *p = '\0';
        out[n++] = p + 1;
    }
    size_t got = n;
    while (n < max) {
        out[n++] = "";
    }
    return got;
}

/* Reference UTF-8 check (RFC 3629), written from the table of section 4, independent of
 * the two validators under test. */
static inline int
fuzz_utf8_ref(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        unsigned cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + k >= n) {
            return 0; /* truncated */
        }
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i += k + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#ifndef MK_LIBFUZZER
#ifndef FUZZ_MUTATION_BUDGET
#define FUZZ_MUTATION_BUDGET 20000
#endif
static size_t fuzz__runs;

static void
fuzz__replay(const char *path, unsigned *seed, int mutations)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return;
    }
    static uint8_t buf[1 << 20], mut[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    /* a copy of exactly n bytes, so ASan sees a read past the end */
    uint8_t *exact = malloc(n > 0 ? n : 1);
    memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    fuzz__runs++;
    for (int m = 0; m < mutations && n > 0; m++) {
        memcpy(mut, buf, n);
        int changes = 1 + rand_r(seed) % 4;
        for (int k = 0; k < changes; k++) {
            mut[(size_t)rand_r(seed) % n] = (uint8_t)rand_r(seed);
        }
        size_t len = rand_r(seed) % 4 == 0 ? (size_t)rand_r(seed) % (n + 1) : n;
        uint8_t *copy = malloc(len > 0 ? len : 1);
        memcpy(copy, mut, len);
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        fuzz__runs++;
    }
}

int
main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    const char *dflt[] = {"tests/fuzz/corpus/" FUZZ_NAME};
    const char *const *dirs = argc > 1 ? (const char *const *)argv + 1 : dflt;
    int ndirs = argc > 1 ? argc - 1 : 1;
    struct dirent **names[16];
    int counts[16], files = 0;
    for (int i = 0; i < ndirs && i < 16; i++) {
        counts[i] = scandir(dirs[i], &names[i], NULL, alphasort);
        if (counts[i] < 0) {
            fprintf(stderr, "fuzz_%s: no corpus at %s\n", FUZZ_NAME, dirs[i]);
            return 1;
        }
        for (int k = 0; k < counts[i]; k++) {
            files += names[i][k]->d_name[0] != '.';
        }
    }
    /* The mutations share a budget, so a corpus grown by scripts/fuzz keeps CI fast. */
    const char *env = getenv("FUZZ_REPLAY_MUTATIONS");
    int mutations = env != NULL ? atoi(env) : files > 0 ? (FUZZ_MUTATION_BUDGET + files - 1) / files : 0;
    unsigned seed = 12345;
    for (int i = 0; i < ndirs && i < 16; i++) {
        for (int k = 0; k < counts[i]; k++) {
            if (names[i][k]->d_name[0] != '.') {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", dirs[i], names[i][k]->d_name);
                fuzz__replay(path, &seed, mutations);
            }
            free(names[i][k]);
        }
        free(names[i]);
    }
    printf("fuzz_%s: %d corpus files replayed, %zu runs (%d mutations each)\n", FUZZ_NAME, files, fuzz__runs,
           mutations);
    printf("%d passed, 0 failed\n", files);
    return files > 0 ? 0 : 1;
}
#endif

#endif
