/* ef_api_store.h: the API's reads served straight from a ledger store: JSON views
 * of blocks, transactions, accounts and the chain's status (the read half of every
 * API backend, see ef_api.h), and a read-only backend over a bare store.
 *
 * JSON shapes (docs/api.yaml has the full schemas):
 *   block:   the header's fields (ef_block_header_to_json: "hash","height","time_ms",
 *            "prev_hash","txs_root","results_root","state_hash","vset_hash",
 *            "next_vset_hash",
 *            "proposer",...) plus "round" and "signers" (public keys of the commit
 *            certificate's signers, [] for block 0) and "txs": the count, or with
 *            full the list of transactions as below, without "height".
 *   tx:      ef_tx_to_json's fields plus "height","index","result" (0 or an ef_err),
 *            "code" (ef_errname of result: "OK", "EFUNDS", ...) and "events"
 *            ([{"name","data"}], [] for a failed transaction).
 *   account: {"key","nonce" (next),"balance","role","domain","name"}; role "none"
 *            and no domain/name for an unregistered key.
 *   status:  {"chain_id","height","last_hash","last_time_ms","genesis_hash",
 *            "state_hash","validators":[{"key","power","role","domain","name",
 *            "signed_last"}]} where signed_last (absent when the last block has no
 *            certificate, e.g. block 0) tells whether the validator's
 *            precommit is in the last block's certificate.
 *
 * Every function returns 0 or a negative ef_err (EF_ENOTFOUND, EF_EDB, EF_ENOMEM,
 * or a decoding error for a corrupt record) and on success a new JSON reference.
 * Threading: as the store's read functions, callable from any thread.
 */
#ifndef EF_API_STORE_H
#define EF_API_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/ef_api.h"
#include "ledger/ef_store.h"

int ef_api_store_block(ef_store *s, uint64_t height, bool full, json_t **out);
int ef_api_store_tx(ef_store *s, const ef_hash *hash, json_t **out);
int ef_api_store_account(ef_store *s, const ef_pub *pub, json_t **out);
int ef_api_store_status(ef_store *s, json_t **out);
/* true if pub has a role in the store's registry and, if domain is not NULL, is
 * of that domain. */
bool ef_api_store_is_member(ef_store *s, const ef_pub *pub, const char *domain);

/* A backend over store s (ctx = s): every read, is_member, no metrics; submit
 * answers EF_EPERM (a bare store has no mempool). The node's backend
 * (ef_api_node.h) reuses the reads and adds submit, status and metrics. */
void ef_api_store_backend(ef_api_backend *be, ef_store *s);
/* The proof of a committed tx with its block's certificate when stored
 * (ef_proof_build): ef_proof_to_json's summary plus "proof", the proof's bytes in
 * hex. 0, EF_ENOTFOUND, EF_EDB, EF_ENOMEM. */
int ef_api_store_proof(ef_store *s, const ef_hash *hash, json_t **out);
/* What a relayer submits to the anchor for block height (1..committed): {height,
 * hash, header: hex of the header's canonical encoding, cert: hex of its commit
 * certificate, vset_hash, next_vset_hash, rotation: next_vset_hash differs,
 * vset: hex of the ef_vset encoding that signs the block, committee: hex of the
 * set of height + 1 (only when rotation), header_json: the header as JSON}.
 * Nothing but hashes, keys and signatures. 0, EF_ENOTFOUND (height 0, not
 * committed, or no certificate stored), EF_EDB, EF_ENOMEM. */
int ef_api_store_checkpoint(ef_store *s, uint64_t height, json_t **out);

#endif
