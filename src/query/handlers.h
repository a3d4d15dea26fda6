/* handlers.h — the query role's route handlers (one file per resource). */
#ifndef MK_QUERY_HANDLERS_H
#define MK_QUERY_HANDLERS_H

#include "core/http.h"

int query_healthz(struct request *r);
int query_readyz(struct request *r);
int query_metrics(struct request *r);
int query_ping(struct request *r);
int query_me(struct request *r);
int query_user(struct request *r);
int query_listing(struct request *r);
int query_listing_page(struct request *r);
int query_categories(struct request *r);
int query_browse(struct request *r);
int query_seller_listings(struct request *r);
int query_my_favorites(struct request *r);
int query_orders(struct request *r);
int query_order(struct request *r);
int query_balance(struct request *r);
int query_user_reviews(struct request *r);
int query_price_insights(struct request *r);
int query_similar(struct request *r);
int query_offers(struct request *r);
int query_offer(struct request *r);

int query_notifications(struct request *r);
int query_saved_searches(struct request *r);
int query_webhooks(struct request *r);
int query_webhook_deliveries(struct request *r);

#endif
