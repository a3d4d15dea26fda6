/*
 * routes.c — every route of the API: method, path pattern, handler, and the pool that
 * serves it. nginx sends GET/HEAD to the query pool and every other method to the command
 * pool; a URL's code is found from here in one step (command/<resource>.c or
 * query/<resource>.c).
 */
#include "routes.h"

#include "command/handlers.h"
#include "query/handlers.h"

#define C ROUTE_COMMAND
#define Q ROUTE_QUERY
#define NO_BODY ROUTE_NO_BODY   /* none or {}: checked by the server before the handler */
#define OWN_LIMIT ROUTE_OWN_LIMIT /* the handler takes the API's limit in its own round trip */

const struct route routes[] = {
    {"GET", "/healthz", query_healthz, Q | C},
    {"GET", "/readyz", query_readyz, Q},
    {"GET", "/metrics", query_metrics, Q},

    {"POST", "/api/v1/system/pings", command_ping, C},
    {"GET", "/api/v1/system/pings/{id}", query_ping, Q},

    /* accounts: /users/me before /users/{id}, so "me" is not taken for an id */
    {"POST", "/api/v1/users", command_register, C},
    {"GET", "/api/v1/users/me", query_me, Q},
    {"GET", "/api/v1/users/me/favorites", query_my_favorites, Q},
    {"PATCH", "/api/v1/users/me", command_update_me, C},
    {"GET", "/api/v1/users/me/balance", query_balance, Q},
    {"GET", "/api/v1/users/{id}", query_user, Q},
    {"GET", "/api/v1/users/{id}/listings", query_seller_listings, Q},
    {"GET", "/api/v1/users/{id}/reviews", query_user_reviews, Q},
    {"POST", "/api/v1/sessions", command_login, C},
    {"DELETE", "/api/v1/sessions/current", command_logout, C | NO_BODY},

    /* catalogue */
    {"GET", "/api/v1/categories", query_categories, Q},
    {"GET", "/api/v1/categories/{slug}/price-insights", query_price_insights, Q},
    {"GET", "/api/v1/listings", query_browse, Q},
    {"POST", "/api/v1/listings", command_create_listing, C},
    {"GET", "/api/v1/listings/{id}", query_listing, Q | OWN_LIMIT},
    {"GET", "/l/{id}", query_listing_page, Q},   /* the listing's HTML page, cached by nginx */
    {"GET", "/api/v1/listings/{id}/similar", query_similar, Q},
    {"PATCH", "/api/v1/listings/{id}", command_update_listing, C},
    {"DELETE", "/api/v1/listings/{id}", command_delete_listing, C | NO_BODY},
    {"POST", "/api/v1/listings/{id}/images/uploads", command_image_upload, C},
    {"POST", "/api/v1/listings/{id}/images", command_image_attach, C},
    {"DELETE", "/api/v1/listings/{id}/images/{image_id}", command_image_remove, C | NO_BODY},
    {"POST", "/api/v1/listings/{id}/favorite", command_favorite_add, C | NO_BODY},
    {"DELETE", "/api/v1/listings/{id}/favorite", command_favorite_remove, C | NO_BODY},

    /* orders: one transaction per write (command/orders.c, command/reviews.c); reads from
     * PostgreSQL through query_private_pg (query/orders.c) */
    {"GET", "/api/v1/orders", query_orders, Q},
    {"POST", "/api/v1/orders", command_create_order, C},
    {"GET", "/api/v1/orders/{id}", query_order, Q},
    {"POST", "/api/v1/orders/{id}/ship", command_ship_order, C},
    {"POST", "/api/v1/orders/{id}/confirm", command_confirm_order, C | NO_BODY},
    {"POST", "/api/v1/orders/{id}/cancel", command_cancel_order, C | NO_BODY},
    {"POST", "/api/v1/orders/{id}/review", command_review_order, C},

    /* notifications (read model), saved searches and webhooks (write model, query_private_pg):
     * command/notifications.c, query/notifications.c */
    {"GET", "/api/v1/users/me/notifications", query_notifications, Q},
    {"POST", "/api/v1/users/me/notifications/read", command_notifications_read, C},
    {"GET", "/api/v1/users/me/saved-searches", query_saved_searches, Q},
    {"POST", "/api/v1/users/me/saved-searches", command_saved_search_create, C},
    {"DELETE", "/api/v1/users/me/saved-searches/{id}", command_saved_search_delete, C | NO_BODY},
    {"GET", "/api/v1/users/me/webhooks", query_webhooks, Q},
    {"POST", "/api/v1/users/me/webhooks", command_webhook_create, C},
    {"DELETE", "/api/v1/users/me/webhooks/{id}", command_webhook_delete, C | NO_BODY},
    {"GET", "/api/v1/users/me/webhooks/{id}/deliveries", query_webhook_deliveries, Q},
    {"POST", "/api/v1/users/me/webhooks/{id}/deliveries/{delivery_id}/retry", command_webhook_retry, C | NO_BODY},
    /* offers: one transaction per move, the listing's row locked first (command/offers.c);
     * reads from PostgreSQL through query_private_pg (query/offers.c); time-outs in projector/timers.c */
    {"POST", "/api/v1/listings/{id}/offers", command_make_offer, C},
    {"GET", "/api/v1/offers", query_offers, Q},
    {"GET", "/api/v1/offers/{id}", query_offer, Q},
    {"POST", "/api/v1/offers/{id}/counter", command_counter_offer, C},
    {"POST", "/api/v1/offers/{id}/accept", command_accept_offer, C | NO_BODY},
    {"POST", "/api/v1/offers/{id}/decline", command_decline_offer, C | NO_BODY},
    {"POST", "/api/v1/offers/{id}/withdraw", command_withdraw_offer, C | NO_BODY},
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
