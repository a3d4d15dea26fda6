/*
 * html.h — escaping for the contexts of a server-rendered HTML page (the listing page of
 * GET /l/{id}). Every value that came from a user goes through one of these, chosen by
 * where it lands. Input is UTF-8 (the JSON entry point validated it); results live in the
 * arena and are valid until its next reset.
 */
#ifndef MK_HTML_H
#define MK_HTML_H

#include <stddef.h>

#include "core/arena.h"

/*
 * Text for an HTML element's content or a double- or single-quoted attribute value:
 * & < > " ' become &amp; &lt; &gt; &quot; &#39;. Control characters other than TAB, LF
 * and CR are dropped (they are not allowed in HTML text). NULL gives "".
 */
char *html_escape(arena_t *a, const char *s);

/*
 * Serialised JSON made safe for the inside of a <script> element (JSON-LD): < > & become
 * \u003c \u003e \u0026, so neither "</script>" nor "<!--" can end or change the element,
 * and U+2028 / U+2029 become \u2028 / \u2029 (line terminators to JavaScript). The result
 * is the same JSON value. NULL gives "null".
 */
char *html_json_script(arena_t *a, const char *json);

/*
 * At most max_chars code points of s (UTF-8), cut at a code point boundary, with "…"
 * appended when something was cut (for og:description). Not escaped.
 */
char *html_truncate(arena_t *a, const char *s, size_t max_chars);

/*
 * The Content-Security-Policy source of an inline <style> or <script> body: 'sha256-<base64>'
 * of its bytes exactly as they appear between the tags.
 */
char *html_csp_hash(arena_t *a, const char *inline_body);

#endif
