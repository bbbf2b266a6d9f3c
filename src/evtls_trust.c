/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_trust.c - see evtls_trust.h. */
#include "evtls_trust.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

/* A field: its length first, so that fields cannot run into each other. */
static void field(wc_Sha256 *h, const void *data, size_t len)
{
    uint64_t n = len;
    wc_Sha256Update(h, (const uint8_t *)&n, sizeof n);
    if (len)
        wc_Sha256Update(h, data, (word32)len);
}

static void text(wc_Sha256 *h, const char *s)
{
    field(h, s ? s : "", s ? strlen(s) + 1 : 0);
}

/* The bytes of a file (a name that cannot be read counts as that). */
static void file(wc_Sha256 *h, const char *path)
{
    text(h, path ? "file" : "none");
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (f == NULL) {
        text(h, path ? "unreadable" : NULL);
        return;
    }
    uint8_t buf[16384];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        field(h, buf, n);
    text(h, ferror(f) ? "read error" : "end");
    fclose(f);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each regular file of a directory (links followed), by name order: the
 * name and the bytes. */
static void directory(wc_Sha256 *h, const char *dir)
{
    text(h, dir ? "dir" : "none");
    DIR *d = dir ? opendir(dir) : NULL;
    if (d == NULL) {
        text(h, dir ? "unreadable" : NULL);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
            if (more == NULL)
                break;
            names = more;
        }
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    char path[4096];
    struct stat sb;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            text(h, names[i]);
            file(h, path);
        }
        free(names[i]);
    }
    free(names);
}

/* The system store is used when asked for, or when nothing else is given
 * (the cfg's default: load_trust in evtls_tlsctx.c). */
static int uses_system_store(const struct evtls__cfg_values *v)
{
    return v->system_ca == 1 ||
           (v->system_ca == -1 && v->ca_buf == NULL && v->ca_file == NULL && v->ca_dir == NULL);
}

uint64_t evtls__trust_fingerprint(const struct evtls__cfg_values *v)
{
    wc_Sha256 h;
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    wc_InitSha256(&h);
    int flags[] = {v->insecure_skip_verify, v->skip_common_name, v->system_ca,
                   (int)v->min_rsa_bits,    (int)v->min_ec_bits, v->cert_status};
    field(&h, flags, sizeof flags);
    field(&h, v->ca_buf, v->ca_buf ? v->ca_len : 0);
    file(&h, v->ca_file);
    directory(&h, v->ca_dir);
    if (uses_system_store(v)) {
        static const char *const dirs[] = EVTLS__SYSTEM_CA_DIRS;
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
            directory(&h, dirs[i]);
    }
    file(&h, v->crl_file);
    field(&h, v->pins, v->n_pins * sizeof v->pins[0]);
    text(&h, v->psk_identity);
    field(&h, v->psk_key, v->psk_key ? v->psk_key_len : 0);
    file(&h, v->cert_file);
    field(&h, v->cert_buf, v->cert_buf ? v->cert_len : 0);
    wc_Sha256Final(&h, digest);
    wc_Sha256Free(&h);
    uint64_t tag = 0;
    for (int i = 0; i < 8; i++)
        tag = tag << 8 | digest[i];
    return tag;
}
