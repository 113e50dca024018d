/* ef_ctx.h: the contract framework: how a native contract is declared and what it
 * may do while a transaction executes (the execution context).
 *
 * A contract is a name and a method table. A method runs with an ef_ctx through
 * which, and only through which, it reads and writes state, emits events and sees
 * the block (height, time, previous block hash) and the sender. There is no clock,
 * randomness or I/O: every node computes the same result.
 *
 * Arguments: a transaction's args are a JSON object (UTF-8, at most
 * EF_TX_ARGS_MAX bytes). The bytes are signed as they are, so the encoding needs
 * no canonical form; a method parses them with jansson (integers only, no reals)
 * and must reject missing fields, wrong types and unknown fields with EF_EARGS.
 *
 * Atomicity: a transaction's writes go straight to the block's LMDB transaction,
 * each key's old value kept in an undo log; if the method returns an error they
 * are put back from the log (the sender's nonce still advances), and the error
 * code is the transaction's recorded result. Events are kept only on success.
 * EF_ENOMEM, EF_EDB or EF_EIO from a method is not a result but fails the whole
 * block (nodes would not agree on it).
 *
 * Limits per transaction: EF_CTX_WRITES_MAX writes, EF_CTX_EVENTS_MAX events,
 * keys up to EF_CTX_KEY_MAX bytes, values up to EF_CTX_VALUE_MAX bytes; exceeding
 * any fails the call with EF_ELIMIT. An event's data over EF_CTX_EVENT_DATA_MAX
 * bytes (its canonical encoding, base/ef_cjson.h) fails the transaction with
 * EF_ELIMIT when the method returns, and event data with no canonical form (a
 * real, say) with EF_EINVAL.
 *
 * Threading: a ctx is used by one thread, during one method call; never keep it.
 */
#ifndef EF_CTX_H
#define EF_CTX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_vset.h"

#define EF_CTX_KEY_MAX 128
#define EF_CTX_VALUE_MAX 65536
#define EF_CTX_WRITES_MAX 256
#define EF_CTX_EVENTS_MAX 32
#define EF_CTX_EVENT_DATA_MAX 4096
#define EF_CONTRACT_NAME_MAX 16
#define EF_METHOD_NAME_MAX 32

typedef struct ef_ctx ef_ctx;

/* A method: args is the parsed JSON object of the transaction's arguments
 * (borrowed). Returns 0 or a negative ef_err code (which fails the transaction). */
typedef int (*ef_method_fn)(ef_ctx *ctx, const json_t *args);

typedef struct ef_method {
    const char *name;
    ef_method_fn fn;
} ef_method;

/* A read-only query for the API: GET /state/{contract}/{path}. path is what follows
 * the contract name ("" for the root). On success stores a new JSON value in *out
 * and returns 0; EF_ENOTFOUND or EF_EINVAL otherwise. ctx is read-only here: puts,
 * events and bank calls fail with EF_EPERM. */
typedef int (*ef_query_fn)(ef_ctx *ctx, const char *path, json_t **out);

/* Whether pub is an account this contract keeps (the registry: registered; the
 * bank: holds money). ctx is read-only, in the contract's own namespace, on the
 * state the transaction would execute against. Returns 0 (an account),
 * EF_ENOTFOUND (not one), or an error (EF_EDB, EF_ENOMEM). */
typedef int (*ef_account_fn)(ef_ctx *ctx, const ef_pub *pub);

/* Optional: a read-only query that writes its JSON answer as text itself (e.g. a
 * large export that would be slow to build as a jansson value). On success *out
 * is a malloc'd buffer of *len bytes holding one JSON value (the caller frees
 * it). EF_ENOMETHOD means "not a text query": the JSON query (ef_query_fn)
 * answers that path instead. Same context rules as ef_query_fn. */
typedef int (*ef_query_text_fn)(ef_ctx *ctx, const char *path, char **out, size_t *len);

/* Called once at genesis with the contract's section of the genesis file's
 * "params" (or NULL). The sender is the all-zero key. */
typedef int (*ef_genesis_fn)(ef_ctx *ctx, const json_t *params);

/* A contract as the executor sees it. What is special about a contract is said
 * here, never by its name in the ledger: to add one, write its .c/.h pair under
 * src/contracts/ and add one line to the table the node is given. */
typedef struct ef_contract {
    const char *name;           /* at most EF_CONTRACT_NAME_MAX bytes */
    const ef_method *methods;
    size_t methods_len;
    ef_query_fn query;          /* may be NULL */
    ef_genesis_fn genesis;      /* may be NULL */
    /* top-level fields of the genesis file copied into this contract's genesis
     * params (e.g. the registry's "validators"); NULL-terminated, or NULL */
    const char *const *genesis_fields;
    /* may call ef_ctx_vset_schedule (the contract that governs the validators) */
    bool schedules_vset;
    /* may be NULL; see "Who may send" below */
    ef_account_fn account;
    ef_query_text_fn query_text; /* may be NULL */
    /* the method that takes equivocation evidence, args {"a": HEX, "b": HEX} (two
     * encoded votes, ledger/ef_evidence.h), or NULL: a validator node sends the
     * double votes it sees there (the registry's report_evidence) */
    const char *evidence_method;
} ef_contract;

/* Who may send (the chain's rule; the ledger applies it in execution, the
 * mempool on admission, both through ef_store_account or its in-block form):
 * if no contract of the table has an `account` function, every sender may send.
 * Otherwise a sender may send only if at least one contract's `account` says it
 * is one of its accounts; a transaction from any other sender is not executable
 * (EF_ENOACCOUNT): a block holding one is invalid and proposers skip it, exactly
 * as for a wrong nonce, so it consumes no nonce and no block space. edgefed
 * charges no fees, so an account is all a sender needs to pay for what it sends. */

/* --- what a method sees --- */
const ef_pub *ef_ctx_sender(const ef_ctx *ctx);
uint64_t ef_ctx_height(const ef_ctx *ctx);         /* height of the block executing */
uint64_t ef_ctx_time_ms(const ef_ctx *ctx);        /* the block header's time */
const ef_hash *ef_ctx_prev_hash(const ef_ctx *ctx);/* hash of the previous block */
const ef_hash *ef_ctx_tx_hash(const ef_ctx *ctx);  /* the executing transaction's hash */
const char *ef_ctx_chain_id(const ef_ctx *ctx);
const char *ef_ctx_contract(const ef_ctx *ctx);    /* name of the running contract */

/* --- state of the running contract (its own namespace) --- */
/* On success *val points to a buffer valid until the next call on ctx. Returns 0,
 * EF_ENOTFOUND, or an error. */
int ef_ctx_get(ef_ctx *ctx, const void *key, size_t key_len, const uint8_t **val, size_t *val_len);
int ef_ctx_put(ef_ctx *ctx, const void *key, size_t key_len, const void *val, size_t val_len);
int ef_ctx_del(ef_ctx *ctx, const void *key, size_t key_len);
/* Read another contract's state (read-only), e.g. the registry's roles. */
int ef_ctx_get_in(ef_ctx *ctx, const char *contract, const void *key, size_t key_len,
                  const uint8_t **val, size_t *val_len);
/* Visit keys of the running contract with the given prefix, in key order; fn
 * returns 0 to go on, 1 to stop, or an error. Sees this transaction's writes. */
typedef int (*ef_ctx_scan_fn)(void *arg, const uint8_t *key, size_t key_len,
                              const uint8_t *val, size_t val_len);
int ef_ctx_scan(ef_ctx *ctx, const void *prefix, size_t prefix_len, ef_ctx_scan_fn fn, void *arg);
/* Convenience: JSON values stored in their canonical binary encoding
 * (base/ef_cjson.h), never as JSON text, so the state hash does not depend on how
 * a JSON library prints a value. put: EF_EINVAL if val has no canonical form (a
 * real, invalid UTF-8, nesting over EF_CJ_DEPTH_MAX), EF_ELIMIT over
 * EF_CTX_VALUE_MAX bytes, or ef_ctx_put's errors. get: ef_ctx_get's errors, or
 * EF_EDB if the stored bytes are not a canonical value. A contract that reads
 * such values raw (ef_ctx_get_in, ef_ctx_scan) decodes them with ef_cj_decode. */
int ef_ctx_get_json(ef_ctx *ctx, const char *key, json_t **out);
int ef_ctx_put_json(ef_ctx *ctx, const char *key, const json_t *val);

/* --- events --- */
/* Records event `name` with data (a JSON object, borrowed) for this transaction;
 * events enter the block's results root and the API's event stream. */
int ef_ctx_emit(ef_ctx *ctx, const char *name, const json_t *data);

/* --- calling another contract's C interface ---
 * Runs fn with ctx switched to contract `name`'s namespace (and back), so e.g. the
 * bank's escrow functions write under "bank". The sender stays the same. */
int ef_ctx_call_as(ef_ctx *ctx, const char *name, int (*fn)(ef_ctx *, void *), void *arg);

/* --- context, validator set (added by the ledger) --- */
/* The contract that called into the running one through ef_ctx_call_as, or NULL
 * when the running contract is the transaction's own. */
const char *ef_ctx_caller(const ef_ctx *ctx);
/* true in a read-only (query) context. */
bool ef_ctx_read_only(const ef_ctx *ctx);
/* The validator set effective at height (as ef_store_vset, but seeing this block's
 * changes). Returns 0, EF_ENOTFOUND, or EF_EDB. */
int ef_ctx_vset(ef_ctx *ctx, uint64_t height, ef_vset *out);
/* Only a contract with schedules_vset, called directly by a transaction (else
 * EF_EPERM): vs becomes the set from height
 * ef_ctx_height() + EF_VSET_DELAY on. A second call in the same block replaces
 * the first. EF_EINVAL if vs is not valid. */
int ef_ctx_vset_schedule(ef_ctx *ctx, const ef_vset *vs);

/* --- argument helpers (return EF_EARGS on a missing field or wrong type) --- */
int ef_args_u64(const json_t *args, const char *field, uint64_t *out);
int ef_args_str(const json_t *args, const char *field, const char **out, size_t max_len);
int ef_args_pub(const json_t *args, const char *field, ef_pub *out);   /* 64 hex digits */
int ef_args_hash(const json_t *args, const char *field, ef_hash *out); /* 64 hex digits */
/* EF_EARGS unless args is an object whose keys are all in the NULL-terminated list. */
int ef_args_only(const json_t *args, const char *const *fields);

#endif
