/* handlers.h — the command role's route handlers (one file per resource). */
#ifndef MK_COMMAND_HANDLERS_H
#define MK_COMMAND_HANDLERS_H

#include "core/http.h"

int command_ping(struct request *r);
int command_register(struct request *r);
int command_update_me(struct request *r);
int command_login(struct request *r);
int command_logout(struct request *r);
int command_create_listing(struct request *r);
int command_update_listing(struct request *r);
int command_delete_listing(struct request *r);
int command_image_upload(struct request *r);
int command_image_attach(struct request *r);
int command_image_remove(struct request *r);
int command_favorite_add(struct request *r);
int command_favorite_remove(struct request *r);
int command_create_order(struct request *r);
int command_ship_order(struct request *r);
int command_confirm_order(struct request *r);
int command_cancel_order(struct request *r);
int command_review_order(struct request *r);
int command_make_offer(struct request *r);
int command_counter_offer(struct request *r);
int command_accept_offer(struct request *r);
int command_decline_offer(struct request *r);
int command_withdraw_offer(struct request *r);

#endif
