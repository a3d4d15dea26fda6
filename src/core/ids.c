#include "core/ids.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void
uuid_new(char out[UUID_STR_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, UUID_STR_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
             b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The hex digits, in either case (isxdigit asks the locale's table through a call each time). */
static const bool HEX[256] = {
    ['0'] = true, ['1'] = true, ['2'] = true, ['3'] = true, ['4'] = true, ['5'] = true, ['6'] = true, ['7'] = true,
    ['8'] = true, ['9'] = true, ['a'] = true, ['b'] = true, ['c'] = true, ['d'] = true, ['e'] = true, ['f'] = true,
    ['A'] = true, ['B'] = true, ['C'] = true, ['D'] = true, ['E'] = true, ['F'] = true,
};

static bool
uuid_hex(const char *s, int n)
{
    for (int i = 0; i < n; i++) {
        if (!HEX[(unsigned char)s[i]]) {
            return false;
        }
    }
    return true;
}

/* uuid_valid runs three times on every read of a listing: the five runs of hex digits and the
 * dashes between them, left to right, so that a shorter string stops at its NUL (never read
 * past), without a strlen first; it was 600 instructions a call (README, "Ninth pass"). */
bool
uuid_valid(const char *s)
{
    return s != NULL && uuid_hex(s, 8) && s[8] == '-' && uuid_hex(s + 9, 4) && s[13] == '-' && uuid_hex(s + 14, 4) &&
           s[18] == '-' && uuid_hex(s + 19, 4) && s[23] == '-' && uuid_hex(s + 24, 12) && s[UUID_STR_LEN] == '\0';
}
