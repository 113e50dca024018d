/* ef_channel.h: the channel contract: uni-directional payment channels with
 * off-ledger vouchers (EdgeToll, seed 002; Filecoin's payment-channel actor).
 *
 * A payer (e.g. a device) locks a deposit for one payee (e.g. the company of its
 * matched EN) until an expiry height. It then pays per task off the ledger by
 * handing the payee vouchers (base/ef_voucher.h): signed messages carrying a
 * cumulative amount and a strictly increasing nonce, bound to this chain and
 * this channel. Any number of tasks costs two transactions: open and redeem
 * (with close); a market session (match, then a channel for it) three.
 *
 * Lifecycle:
 *   open ──► OPEN ──start_close (payer)──► CLOSING ──settle after window──► CLOSED
 *             │  redeem (payee, any time before the end; "close": true ends it) │
 *             └────────────── settle at/after expiry ───────────────────────────┘
 * The end of a channel is its expiry height, or for a CLOSING channel the end of
 * its challenge window (close_at = height of start_close + challenge_blocks).
 * Redeem is accepted while height < end; settle (anyone) once height >= end pays
 * what is left back to the payer. So a payee that holds a voucher has at least
 * the challenge window to present it after a payer starts closing, and a payer
 * whose payee vanished gets the deposit back at expiry. Channel ids come from a
 * counter and are never reused.
 *
 * Methods (JSON args; amounts integers >= 1):
 *   open      {"payee": PUB, "amount": N, "expiry": HEIGHT, "match": ID?}
 *             sender = payer; expiry > height, <= height + EF_CH_TTL_MAX.
 *             EF_EFUNDS short; EF_EINVAL payee = payer or expiry out of range.
 *             With "match" (a market match, ef_market.h) the channel pays for
 *             that session: the payer must be its device and the payee its EN's
 *             company (EF_EPERM), the match active (EF_ESTATE; EF_ENOTFOUND none),
 *             and when the channel closes (any way) the match ends with it, so a
 *             whole session costs three transactions: match, open, redeem with
 *             close. Event channel_open.
 *   top_up    {"channel": ID, "amount": N, "expiry": HEIGHT?}  payer; while OPEN;
 *             expiry may only grow. Event channel_top_up.
 *   redeem    {"channel": ID, "voucher": HEX, "close": BOOL?}  payee; receives
 *             voucher amount - redeemed; with close, the rest goes back to the
 *             payer and the channel is CLOSED. Event channel_redeem (and
 *             channel_closed).
 *   start_close {"channel": ID}   payer; OPEN -> CLOSING. Event channel_closing
 *             {channel, payer, payee, close_at} (what the watch service waits for).
 *   settle    {"channel": ID}   anyone, once height >= end. Event channel_closed.
 * Voucher errors (each rejected, nothing changes): EF_EARGS not a voucher
 * (bad hex or encoding), EF_EPROTO wrong domain tag, EF_ECHAIN another chain,
 * EF_EINVAL another channel, EF_EBADSIG signature does not verify, EF_EPERM
 * signed by a key other than the payer, EF_ENONCE nonce not above the last
 * redeemed (replay, stale) or amount below what was redeemed, EF_EFUNDS amount
 * over the deposit (overdraft), EF_EOVERFLOW amount over INT64_MAX, EF_ELATE the
 * channel's end passed. Others: EF_ENOTFOUND no such channel, EF_EPERM wrong
 * party, EF_ESTATE wrong state (closed, already closing), EF_EAGAIN settle
 * before the end.
 *
 * Money: the deposit is a bank escrow owned by this contract (ef_bank.h);
 * top-ups add to it; redeem and settle release from it, so the bank's invariant
 * (balances + locked = supply) holds throughout, and deposit = redeemed +
 * refunded + left for every channel.
 *
 * Queries (GET /state/channel/...): params, channel/{ID}, channels (the open and
 * closing ones, at most EF_CH_QUERY_MAX), payer/{PUB}, payee/{PUB}.
 * Channel JSON: {channel, payer, payee, escrow (the bank escrow id), deposit, redeemed, refunded, left,
 * nonce, expiry, state ("open"|"closing"|"closed"), close_at, opened, closed, match (when
 * opened for one)}.
 * Genesis params ("channel"): {"challenge_blocks": 1..} (default
 * EF_CH_CHALLENGE_DEFAULT).
 */
#ifndef EF_CHANNEL_H
#define EF_CHANNEL_H

#include "ledger/ef_ctx.h"

#define EF_CH_CHALLENGE_DEFAULT 10
#define EF_CH_TTL_MAX 10000000ull
#define EF_CH_QUERY_MAX 1000

extern const ef_contract ef_channel_contract;

#endif
