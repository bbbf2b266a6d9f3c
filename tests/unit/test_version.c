/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_version.c - the library's version and its build's features. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evtls/evtls.h>

/* The version and the build's features, as a program asks for them; a
 * program built against an older, smaller struct gets only its fields. */
static void test_version_and_build_info(void **state)
{
    (void)state;
    assert_string_equal(evtls_version(), EVTLS_VERSION_STRING);
    evtls_build_info bi = EVTLS_BUILD_INFO_INIT;
    assert_int_equal(evtls_get_build_info(&bi), 0);
    assert_string_equal(bi.version, EVTLS_VERSION_STRING);
    assert_non_null(bi.wolfssl_version);
    assert_true(strncmp(bi.wolfssl_version, "5.", 2) == 0);
    assert_int_equal(bi.crl, 1); /* both builds have CRLs and stapling */
    assert_int_equal(bi.ocsp_stapling, 1);
    assert_int_equal(bi.early_data, bi.wolfssl_tuned); /* the tuned build has early data */
    assert_int_equal(bi.max_certificate_msg, bi.wolfssl_tuned ? 65536 : 18462);
    /* An older program's struct: size and version only. Nothing past it
     * is written. */
    union {
        evtls_build_info whole;
        unsigned char bytes[sizeof(evtls_build_info)];
    } u;
    memset(&u, 0x5a, sizeof u);
    size_t old_size = offsetof(evtls_build_info, wolfssl_version);
    u.whole.size = old_size;
    assert_int_equal(evtls_get_build_info(&u.whole), 0);
    assert_string_equal(u.whole.version, EVTLS_VERSION_STRING);
    for (size_t i = old_size; i < sizeof u.bytes; i++)
        assert_int_equal(u.bytes[i], 0x5a);
    evtls_build_info tiny = {.size = 1};
    assert_int_equal(evtls_get_build_info(&tiny), EVTLS_ERR_INVALID_ARG);
    assert_int_equal(evtls_get_build_info(NULL), EVTLS_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_build_info),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
