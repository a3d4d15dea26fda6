/* Unit tests of the accounts rules: emails, text limits, locations, passwords, tokens, ETags. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/listing.h"
#include "domain/image.h"
#include "domain/location.h"
#include "domain/session.h"
#include "domain/user.h"

static arena_t *A;

static void
setup(void)
{
    A = arena_create(4096);
    log_init("test", "error");
    cr_assert(sodium_init() >= 0);
}

static void
teardown(void)
{
    arena_destroy(A);
}

TestSuite(accounts, .init = setup, .fini = teardown);

static void
request_with(struct request *r, const char *method, const char *header)
{
    static char *env[4];
    static char m[64], h[256];
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    env[0] = m;
    env[1] = "REQUEST_URI=/x";
    env[2] = NULL;
    if (header != NULL) {
        snprintf(h, sizeof(h), "%s", header);
        env[2] = h;
        env[3] = NULL;
    }
    cr_assert_eq(http_request_init(r, A, env, NULL, 0), MK_OK);
}

/* ---- emails ---- */

Test(accounts, emails_are_trimmed_and_their_domain_lower_cased)
{
    static const char *cases[][2] = {
        {"  Ann.Smith@Example.COM ", "Ann.Smith@example.com"},
        {"x+tag@sub.domain.example", "x+tag@sub.domain.example"},
        {"o'brien@ex-ample.IE", "o'brien@ex-ample.ie"},
        {"a@b.co", "a@b.co"},
        {"\tUPPER@CASE.ORG\n", "UPPER@case.org"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out;
        cr_assert_eq(user_email_normalise(A, cases[i][0], &out), MK_OK, "%s", cases[i][0]);
        cr_assert_str_eq(out, cases[i][1]);
    }
    cr_assert_str_eq(user_email_key(A, "Ann.Smith@example.com"), "ann.smith@example.com");
}

Test(accounts, invalid_emails_are_refused)
{
    char long_local[80], long_total[300];
    memset(long_local, 'l', 65);
    strcpy(long_local + 65, "@x.example");
    memset(long_total, 'd', 250);
    memcpy(long_total, "a@", 2);
    strcpy(long_total + 250, ".com");
    const char *bad[] = {"", "a", "a@b", "@b.example", "a@", "a@@b.example", "a b@c.example", "a@c .example",
                         ".a@c.example", "a.@c.example", "a..b@c.example", "a@.c.example", "a@c..example",
                         "a@-c.example", "a@c-.example", "a@c.123", "a@c_d.example", "\"q\"@c.example",
                         "a(b)@c.example", "é@c.example", "a@ç.example", long_local, long_total};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out;
        cr_assert_eq(user_email_normalise(A, bad[i], &out), MK_EVALIDATION, "%s", bad[i]);
        cr_assert_null(out);
    }
}

/* ---- text ---- */

Test(accounts, limits_count_characters_not_bytes)
{
    cr_assert_eq(text_chars("héllo"), 5);
    cr_assert_eq(text_chars("日本語"), 3);
    cr_assert_eq(text_chars(""), 0);
    cr_assert_null(user_password_problem("éééééééééé"), "10 characters in 20 bytes");
    cr_assert_not_null(user_password_problem("ééééééééé"), "9 characters in 18 bytes");
    char pw[200];
    memset(pw, 'x', 128);
    pw[128] = '\0';
    cr_assert_null(user_password_problem(pw));
    pw[128] = 'x';
    pw[129] = '\0';
    cr_assert_not_null(user_password_problem(pw));
    cr_assert_null(text_check(A, "Ann", 1, 60, false));
    cr_assert_not_null(text_check(A, "", 1, 60, false));
    cr_assert_not_null(text_check(A, "a\tb", 1, 60, false));
    cr_assert_null(text_check(A, "line one\nline two", 0, 60, true));
    cr_assert_not_null(text_check(A, "bell\a", 0, 60, true));
    /* C1's controls anywhere (a terminal's CSI, NEL); the line and paragraph separators in one line. */
    cr_assert_not_null(text_check(A, "Bob\xc2\x9b[31mx", 1, 60, false));
    cr_assert_not_null(text_check(A, "Bob\xc2\x9b[31mx", 0, 60, true));
    cr_assert_not_null(text_check(A, "a\xc2\x85" "b", 1, 60, false));
    cr_assert_not_null(text_check(A, "a\xc2\x80", 1, 60, false));
    cr_assert_not_null(text_check(A, "x\u2028y", 1, 60, false));
    cr_assert_not_null(text_check(A, "x\u2029y", 1, 60, false));
    cr_assert_null(text_check(A, "x\u2028y\u2029z", 0, 60, true));
    /* Their neighbours are text: U+00A0..U+00FF, U+2027, U+202A. */
    cr_assert_null(text_check(A, "caf\u00e9 \u00a0\u00ff \u2027\u202a", 1, 60, false));
    cr_assert_str_eq(text_trim(A, " \t x y \n"), "x y");
    /* Unicode's white space too: U+00A0, U+3000, U+2003, U+205F, U+1680, U+0085, U+2028, U+202F. */
    cr_assert_str_eq(text_trim(A, "\u00a0\u3000 Lamp\u00a0shade\u2003\u205f"), "Lamp\u00a0shade");
    cr_assert_str_eq(text_trim(A, "\u1680" "\xc2\x85" "\u2028x\u202f\u2029"), "x");
    cr_assert_str_eq(text_trim(A, "\u00a0\u3000\u2000\u200a \t"), "");
    /* Not white space, kept: U+200B (zero width), U+2010 (hyphen), U+00E9, U+3001, U+2080. */
    cr_assert_str_eq(text_trim(A, "\u200bx\u2010"), "\u200bx\u2010");
    cr_assert_str_eq(text_trim(A, "\u00e9\u3001\u2080"), "\u00e9\u3001\u2080");
    cr_assert_str_eq(text_trim(A, ""), "");
    cr_assert_not_null(text_check(A, text_trim(A, "\u00a0\u00a0\u00a0"), 3, 120, false));
}

/* ---- locations ---- */

static json_object *
parse(const char *text)
{
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "%s", text);
    return o;
}

Test(accounts, location_members_are_checked_and_named)
{
    struct request r;
    json_object *out, *in;
    request_with(&r, "PATCH", NULL);
    in = parse("{\"city\":\" Lyon \",\"country\":\"FR\",\"lat\":45.76,\"lon\":4}");
    cr_assert_eq(location_parse(&r, "location", in, true, &out), MK_OK);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(out, "city")), "Lyon");
    cr_assert_float_eq(json_object_get_double(json_object_object_get(out, "lon")), 4.0, 1e-9);
    json_object_put(in);

    static const struct {
        const char *json;
        bool all;
        const char *field;
    } bad[] = {
        {"{\"lat\":90.5,\"lon\":0}", false, "location.lat"},
        {"{\"lat\":0,\"lon\":180.01}", false, "location.lon"},
        {"{\"lat\":\"1\",\"lon\":0}", false, "location.lat"},
        {"{\"lat\":1}", false, "location.lon"},
        {"{\"lon\":1}", false, "location.lat"},
        {"{\"country\":\"de\"}", false, "location.country"},
        {"{\"country\":\"DEU\"}", false, "location.country"},
        {"{\"city\":\"\"}", false, "location.city"},
        {"{\"zip\":\"1\"}", false, "location.zip"},
        {"{\"city\":\"Lyon\"}", true, "location.country"},
        {"[1,2]", false, "location"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        request_with(&r, "PATCH", NULL);
        in = parse(bad[i].json);
        cr_assert_eq(location_parse(&r, "location", in, bad[i].all, &out), MK_EVALIDATION, "%s", bad[i].json);
        cr_assert_not_null(r.err_fields);
        cr_assert(json_object_object_get_ex(r.err_fields, bad[i].field, NULL), "%s: %s", bad[i].json,
                  json_object_to_json_string(r.err_fields));
        json_object_put(in);
    }
    request_with(&r, "PATCH", NULL);
    in = parse("{\"city\":\"Porto\"}");
    cr_assert_eq(location_parse(&r, "location", in, false, &out), MK_OK, "members are optional on profiles");
    json_object_put(in);
}

/* ---- passwords ---- */

Test(accounts, passwords_hash_with_argon2id_and_ask_for_a_rehash_when_limits_change)
{
    struct user_pwlimits lim = {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
    char hash[crypto_pwhash_STRBYTES];
    bool rehash;
    cr_assert_eq(user_password_hash(&lim, "correct horse battery", hash), MK_OK);
    cr_assert(strncmp(hash, "$argon2id$", 10) == 0, "%s", hash);
    cr_assert(user_password_verify(&lim, hash, "correct horse battery", &rehash));
    cr_assert_not(rehash);
    cr_assert_not(user_password_verify(&lim, hash, "correct horse batterx", &rehash));
    cr_assert_not(user_password_verify(&lim, NULL, "anything at all", &rehash), "no user: never a match");
    struct user_pwlimits stronger = {lim.opslimit + 1, lim.memlimit};
    cr_assert(user_password_verify(&stronger, hash, "correct horse battery", &rehash));
    cr_assert(rehash, "a hash made at other limits asks to be re-hashed");
}

/* ---- sessions ---- */

Test(accounts, session_tokens_have_one_shape_and_are_stored_as_hashes)
{
    cr_assert(session_token_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"));
    cr_assert_not(session_token_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_0123"), "42 characters");
    cr_assert_not(session_token_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_012345"), "44 characters");
    cr_assert_not(session_token_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_0123="), "padding");
    cr_assert_not(session_token_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ+/01234"), "standard base64");
    cr_assert_not(session_token_valid(""));
    const char *token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
    char *key = session_key(A, token);
    cr_assert_eq(strlen(key), strlen("session:") + 64);
    cr_assert_null(strstr(key, token));
    cr_assert_str_eq(key, session_key(A, token), "deterministic");
    cr_assert_str_neq(key, session_key(A, "bbcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"));
}

Test(accounts, session_cookie_has_every_flag)
{
    struct request r;
    request_with(&r, "POST", NULL);
    session_set_cookie(&r, "TOKEN", 2592000);
    cr_assert_str_eq(http_response_header(&r, "Set-Cookie"),
                     "sid=TOKEN; Max-Age=2592000; Path=/; HttpOnly; Secure; SameSite=Lax");
    session_set_cookie(&r, NULL, 0);
    cr_assert_str_eq(http_response_header(&r, "Set-Cookie"), "sid=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax");
}

/* ---- ETags ---- */

Test(accounts, if_none_match_lists_weak_tags_and_star)
{
    cr_assert(http_etag_match("\"abc\"", "\"abc\""));
    cr_assert(http_etag_match("W/\"abc\"", "\"abc\""));
    cr_assert(http_etag_match("\"x\", \"abc\"", "\"abc\""));
    cr_assert(http_etag_match("*", "\"abc\""));
    cr_assert_not(http_etag_match("\"abcd\"", "\"abc\""));
    cr_assert_not(http_etag_match("\"ab\"", "\"abc\""));
    cr_assert_not(http_etag_match("abc", "\"abc\""));
    cr_assert_not(http_etag_match("\"unterminated", "\"abc\""));
    cr_assert_not(http_etag_match(NULL, "\"abc\""));
}

/* Issue 18: a 5000-digit If-Match "000…01" matched version 1 and deleted the listing. A list
 * matches when any of its tags names the version; a value that is no list matches nothing. */
Test(accounts, listing_if_match_names_a_version_as_its_etag_writes_it)
{
    cr_assert(listing_if_match("\"7\"", 7));
    cr_assert_not(listing_if_match("\"7\"", 8));
    cr_assert(listing_if_match("W/\"12\"", 12));
    cr_assert(listing_if_match("\"3-abcdef\"", 3));
    cr_assert_not(listing_if_match("\"3-abcdef\"", 33));
    cr_assert_not(listing_if_match("\"33-abcdef\"", 3));
    cr_assert(listing_if_match("*", 5));
    cr_assert(listing_if_match(" * ", 5));
    /* Lists: any tag, in any place; empty elements and white space are allowed. */
    cr_assert(listing_if_match("\"7\", \"1\"", 1));
    cr_assert(listing_if_match("\"1\", \"7\"", 1));
    cr_assert(listing_if_match("\"1\",\"7\"", 7));
    cr_assert(listing_if_match(" , \"9\" ,, W/\"2-x\" ,", 2));
    cr_assert_not(listing_if_match("\"7\", \"8\"", 1));
    static const char *const refused[] = {
        "\"01\"", "\"0\"", "\"0000000000000000000000000000001\"", "\"-1\"", "\"+1\"", "\" 1\"", "\"1 \"",
        "\"1", "\"1-abc", "1", "\"\"", "", "W/", "\"99999999999999999999\"", "\"0x1\"", "garbage",
        /* after a tag that names the version, what is not a list */
        "\"1\"garbage", "\"1\" x", "\"1\", x", "\"1\", \"2", "\"1\" \"2\"", "\"1\", *", "*, \"1\"", "w/\"1\"",
        "\"1\x01\"", "\"1-a b\"",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cr_assert_not(listing_if_match(refused[i], 1), "%s", refused[i]);
    }
}

Test(accounts, json_etag_changes_with_the_body_and_answers_304)
{
    struct request r;
    request_with(&r, "GET", NULL);
    json_object *doc = http_json_own(&r, json_tokener_parse("{\"a\":1}"));
    cr_assert_eq(http_respond_json_etag(&r, doc, NULL), MK_OK);
    char etag[64];
    snprintf(etag, sizeof(etag), "%s", http_response_header(&r, "ETag"));
    cr_assert_eq(etag[0], '"');

    request_with(&r, "GET", NULL);
    doc = http_json_own(&r, json_tokener_parse("{\"a\":2}"));
    http_respond_json_etag(&r, doc, NULL);
    cr_assert_str_neq(http_response_header(&r, "ETag"), etag);

    char header[128];
    snprintf(header, sizeof(header), "HTTP_IF_NONE_MATCH=%s", etag);
    request_with(&r, "GET", header);
    doc = http_json_own(&r, json_tokener_parse("{\"a\":1}"));
    cr_assert_eq(http_respond_json_etag(&r, doc, NULL), MK_ENOTMODIFIED);
    http_finish(&r, MK_ENOTMODIFIED);
    cr_assert_eq(r.status, 304);
    cr_assert_eq(r.out_len, 0);
    cr_assert_str_eq(http_response_header(&r, "ETag"), etag, "a 304 keeps its ETag");
}

/* The ETag as an outsider would have to compute it: SipHash-2-4 (128-bit output) of the body
 * under a key derived from the shared secret, in unpadded URL-safe base64. */
static void
etag_expected(const char *secret, const char *body, size_t len, char *out, size_t cap)
{
    unsigned char key[crypto_shorthash_siphashx24_KEYBYTES], digest[crypto_shorthash_siphashx24_BYTES];
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "marketd etag key\n%s", secret);
    crypto_generichash(key, sizeof(key), (const unsigned char *)msg, (size_t)n, NULL, 0);
    crypto_shorthash_siphashx24(digest, (const unsigned char *)body, len, key);
    char b64[sodium_base64_ENCODED_LEN(sizeof(digest), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, cap, "\"%s\"", b64);
}

static const char *
etag_of(const char *body, size_t len, const char *prefix)
{
    struct request r;
    request_with(&r, "GET", NULL);
    char *copy = arena_alloc(A, len + 1);
    memcpy(copy, body, len);
    cr_assert_eq(http_respond_raw(&r, 200, "application/json", copy, len), MK_OK);
    cr_assert_eq(http_etag_body(&r, prefix), MK_OK);
    return http_response_header(&r, "ETag");
}

Test(accounts, etag_is_the_keyed_siphash_of_the_body_under_the_shared_secret)
{
    /* A page-sized body, and each one-byte change of it at a few offsets. */
    size_t len = 17600;
    char *body = arena_alloc(A, len);
    for (size_t i = 0; i < len; i++) {
        body[i] = (char)(' ' + (i * 7919) % 90);
    }
    char want[64], other[64];
    http_etag_init("secret one");
    etag_expected("secret one", body, len, want, sizeof(want));
    cr_assert_str_eq(etag_of(body, len, NULL), want);
    cr_assert_eq(strlen(want), 24, "16 bytes in base64, quoted: as long as before");
    static const size_t offsets[] = {0, 1, 7, 8, 4095, 8800, 17598, 17599};
    for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
        body[offsets[k]] ^= 1;
        etag_expected("secret one", body, len, other, sizeof(other));
        cr_assert_str_eq(etag_of(body, len, NULL), other);
        cr_assert_str_neq(other, want, "a byte changed at %zu", offsets[k]);
        body[offsets[k]] ^= 1;
    }
    const char *versioned = etag_of(body, len, "7");
    cr_assert(strncmp(versioned, "\"7-", 3) == 0 && strcmp(versioned + 3, want + 1) == 0, "%s", versioned);

    /* Another secret, another tag for the same bytes; the same secret again, the same tag. */
    http_etag_init("secret two");
    etag_expected("secret two", body, len, other, sizeof(other));
    cr_assert_str_eq(etag_of(body, len, NULL), other);
    cr_assert_str_neq(other, want);
    http_etag_init("secret one");
    cr_assert_str_eq(etag_of(body, len, NULL), want);
}

/* ---- request bodies (the parsers the command handlers call; fuzzed by fuzz_json) ---- */

Test(accounts, register_login_and_profile_bodies)
{
    struct request r;
    request_with(&r, "POST", NULL);
    json_object *in = parse("{\"email\":\" Ann@Example.COM \",\"password\":\"correct horse\",\"display_name\":\" Ann \"}");
    struct user_register reg;
    cr_assert_eq(user_parse_register(&r, in, &reg), MK_OK);
    cr_assert_str_eq(reg.email, "Ann@example.com");
    cr_assert_str_eq(reg.password, "correct horse");
    cr_assert_str_eq(reg.display_name, "Ann");
    json_object_put(in);

    request_with(&r, "POST", NULL);
    in = parse("{\"email\":\"nope\",\"password\":\"short\",\"display_name\":\"\",\"admin\":true}");
    cr_assert_eq(user_parse_register(&r, in, &reg), MK_EVALIDATION);
    const char *fields[] = {"email", "password", "display_name", "admin"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert(json_object_object_get_ex(r.err_fields, fields[i], NULL), "%s named", fields[i]);
    }
    json_object_put(in);

    const char *key, *password;
    request_with(&r, "POST", NULL);
    in = parse("{\"email\":\" Ann@Example.COM\",\"password\":\"x\"}");
    cr_assert_eq(user_parse_login(&r, in, &key, &password), MK_OK);
    cr_assert_str_eq(key, user_email_key(A, "Ann@example.com"), "the key of the normalised address");
    json_object_put(in);
    request_with(&r, "POST", NULL);
    in = parse("{\"email\":\"not an address \",\"password\":\"x\"}");
    cr_assert_eq(user_parse_login(&r, in, &key, &password), MK_OK, "an invalid address is looked up all the same");
    cr_assert_str_eq(key, user_email_key(A, "not an address"));
    json_object_put(in);
    request_with(&r, "POST", NULL);
    in = parse("{\"email\":1}");
    cr_assert_eq(user_parse_login(&r, in, &key, &password), MK_EVALIDATION);
    cr_assert(json_object_object_get_ex(r.err_fields, "password", NULL));
    json_object_put(in);

    struct user_patch p;
    bool any;
    request_with(&r, "PATCH", NULL);
    in = parse("{}");
    cr_assert_eq(user_parse_profile(&r, in, &p, &any), MK_OK);
    cr_assert(!any);
    json_object_put(in);
    request_with(&r, "PATCH", NULL);
    in = parse("{\"bio\":\" two\\nlines \",\"location\":null}");
    cr_assert_eq(user_parse_profile(&r, in, &p, &any), MK_OK);
    cr_assert(any && p.set_location && p.location == NULL);
    cr_assert_str_eq(p.bio, "two\nlines");
    json_object_put(in);
    request_with(&r, "PATCH", NULL);
    in = parse("{\"display_name\":\"a\\nb\",\"bio\":3}");
    cr_assert_eq(user_parse_profile(&r, in, &p, &any), MK_EVALIDATION);
    cr_assert(json_object_object_get_ex(r.err_fields, "display_name", NULL));
    cr_assert(json_object_object_get_ex(r.err_fields, "bio", NULL));
    json_object_put(in);
}

Test(accounts, image_upload_and_attach_bodies)
{
    struct request r;
    const char *ct, *key;
    long long size;
    request_with(&r, "POST", NULL);
    json_object *in = parse("{\"content_type\":\"image/webp\",\"size_bytes\":10485760}");
    cr_assert_eq(image_parse_upload(&r, in, &ct, &size), MK_OK);
    cr_assert_str_eq(ct, "image/webp");
    cr_assert_eq(size, 10485760);
    json_object_put(in);
    static const char *const bad[] = {
        "{\"content_type\":\"image/gif\",\"size_bytes\":1}", "{\"content_type\":\"image/png\",\"size_bytes\":0}",
        "{\"content_type\":\"image/png\",\"size_bytes\":10485761}", "{\"content_type\":\"image/png\",\"size_bytes\":1.5}",
        "{\"content_type\":\"image/png\",\"size_bytes\":1,\"x\":1}", "{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        request_with(&r, "POST", NULL);
        in = parse(bad[i]);
        cr_assert_eq(image_parse_upload(&r, in, &ct, &size), MK_EVALIDATION, "%s", bad[i]);
        cr_assert_not_null(r.err_fields);
        json_object_put(in);
    }
    request_with(&r, "POST", NULL);
    in = parse("{\"key\":\"listings/a/b.jpg\"}");
    cr_assert_eq(image_parse_attach(&r, in, &key), MK_OK);
    cr_assert_str_eq(key, "listings/a/b.jpg");
    json_object_put(in);
    request_with(&r, "POST", NULL);
    in = parse("{\"key\":5}");
    cr_assert_eq(image_parse_attach(&r, in, &key), MK_EVALIDATION);
    cr_assert(json_object_object_get_ex(r.err_fields, "key", NULL));
    json_object_put(in);
}
