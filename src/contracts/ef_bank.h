/* ef_bank.h: the bank contract: balances, transfers, and escrow for other contracts.
 *
 * Money is created only at genesis; every other operation moves it. An escrow is
 * owned by the contract that opened it: only that contract can release it, to a
 * payee or back to the payer, in one or several parts.
 *
 * Methods (JSON args; amounts are integers >= 1):
 *   transfer {"to": PUB, "amount": N}        sender pays `to`
 *   escrow   {"payee": PUB, "amount": N}     sender locks N for payee in a new escrow
 *                                            owned by the bank (event escrow_lock has its id)
 *   release  {"escrow": ID, "amount": N}     the escrow's payer pays N of it to the payee
 *   refund   {"escrow": ID, "amount": N}     the escrow's payee returns N of it to the payer
 * Errors: EF_EFUNDS (short; nothing changes), EF_EPERM (wrong party), EF_ENOTFOUND
 * (no such escrow), EF_EARGS.
 * Events: transfer {from,to,amount}, escrow_lock {id,owner,payer,amount[,payee]},
 *         escrow_release {id,to,amount,left}, escrow_add {id,payer,amount,left}.
 * Query: /bank/balance/{PUB} -> {"account","balance"}, /bank/escrow/{ID} ->
 *        {"id","owner","payer","amount","left"[,"payee"]}, /bank/supply -> {"supply","locked"}
 *
 * Accounts (ef_contract.account): an account with a balance above 0 may send
 * transactions (so money received makes an account; a payee with neither money
 * nor registration cannot send, e.g. to refund an escrow, until it has either).
 *
 * Invariant: the sum of all balances plus the money locked in escrows equals the
 * supply created at genesis.
 *
 * The C functions below may be called from any contract's method (they switch to
 * the bank's namespace themselves); "the calling contract" is ef_ctx_contract(ctx)
 * at the call.
 */
#ifndef EF_BANK_H
#define EF_BANK_H

#include "ledger/ef_ctx.h"

extern const ef_contract ef_bank_contract;

/* Balance of pub (0 if none). */
int ef_bank_balance(ef_ctx *ctx, const ef_pub *pub, uint64_t *out);
/* Moves amount from `from` to `to`; EF_EFUNDS if short (nothing changes). Only the
 * bank's own transfer method or a contract acting for the transaction's sender
 * (from == sender) may call it; otherwise EF_EPERM. */
int ef_bank_transfer(ef_ctx *ctx, const ef_pub *from, const ef_pub *to, uint64_t amount);
/* Locks amount of the sender's money in a new escrow owned by the calling contract;
 * returns its id in *escrow_id. EF_EFUNDS if short. */
int ef_bank_escrow_lock(ef_ctx *ctx, uint64_t amount, uint64_t *escrow_id);
/* Adds amount of the sender's money to an existing escrow that the calling
 * contract owns (a top-up). EF_EPERM if another contract owns it, EF_EFUNDS if
 * short, EF_EOVERFLOW if the escrow would exceed INT64_MAX. */
int ef_bank_escrow_add(ef_ctx *ctx, uint64_t escrow_id, uint64_t amount);
/* Pays amount from the escrow to `to` (payee or payer). Only the contract that
 * locked it; EF_EFUNDS if more than what is left. */
int ef_bank_escrow_release(ef_ctx *ctx, uint64_t escrow_id, const ef_pub *to, uint64_t amount);
/* What is left in an escrow. */
int ef_bank_escrow_left(ef_ctx *ctx, uint64_t escrow_id, uint64_t *out);

#endif
