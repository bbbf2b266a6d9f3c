/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pkcs11_uri.c - RFC 7512 PKCS#11 URIs as a client key's name: the
 * path attributes (percent-decoded; id as bytes), the query's PIN and
 * module, and what is refused (no key named, a type other than private,
 * an unknown path attribute, a bad escape, two PINs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <evtls/evtls.h>
#include "evtls_pkcs11.h"

static void test_uri_parts(void **state)
{
    (void)state;
    struct evtls__pkcs11_uri u;
    evtls_last_error e;
    memset(&e, 0, sizeof e);
    assert_true(evtls__pkcs11_is_uri("pkcs11:object=x"));
    assert_true(evtls__pkcs11_is_uri("PKCS11:object=x"));
    assert_false(evtls__pkcs11_is_uri("/etc/key.pem"));
    assert_false(evtls__pkcs11_is_uri(NULL));
    assert_int_equal(evtls__pkcs11_uri_parse("pkcs11:token=My%20Token;object=client%3bkey;"
                                             "type=private;manufacturer=SoftHSM"
                                             "?pin-value=12%2634&module-path=/m.so&x=y",
                                             &u, &e),
                     0);
    assert_string_equal(u.token, "My Token");
    assert_string_equal(u.object, "client;key");
    assert_string_equal(u.pin, "12&34");
    assert_string_equal(u.module_path, "/m.so");
    assert_int_equal(u.id_len, 0);
    assert_int_equal(
        evtls__pkcs11_uri_parse("pkcs11:serial=0123;id=%01%A0%ff?pin-source=file:/p", &u, &e), 0);
    assert_string_equal(u.serial, "0123");
    assert_int_equal(u.id_len, 3);
    assert_memory_equal(u.id, "\x01\xa0\xff", 3);
    assert_string_equal(u.pin_source, "file:/p");
    static const struct {
        const char *uri, *says;
    } bad[] = {
        {"pkcs11:token=t", "names no key"},
        {"pkcs11:object=k;type=secret-key", "names no private key or certificate"},
        {"pkcs11:object=k;colour=blue", "unknown path attribute"},
        {"pkcs11:object=k%2", "does not decode"},
        {"pkcs11:object=k%zz", "does not decode"},
        {"pkcs11:object=a%00b", "does not decode"},
        {"pkcs11:object", "without a value"},
        {"pkcs11:object=k?pin-value=1&pin-source=/p", "give one of them"},
        {"pkcs11:token=0123456789012345678901234567890123;object=k", "too long"},
        {"file:/key.pem", "does not start with pkcs11:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(evtls__pkcs11_uri_parse(bad[i].uri, &u, &e), EVTLS_ERR_BAD_CONFIG);
        if (strstr(e.detail, bad[i].says) == NULL)
            fail_msg("%s: '%s' does not say '%s'", bad[i].uri, e.detail, bad[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_parts),
    };
    return cmocka_run_group_tests_name("pkcs11 uri", tests, NULL, NULL);
}
