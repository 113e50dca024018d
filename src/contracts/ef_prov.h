/* ef_prov.h: the prov contract (seed 004): identity, data-provenance and
 * orchestration records under the BCOR state machine, as W3C PROV elements and
 * relations with their ledger evidence; PROV-JSON export and lineage queries.
 *
 * Things and their states (BCOR, the seed's Table II):
 *
 *   trigger          condition            orchestrator action     record
 *   join device      -                    identify device         identity-create
 *   leave device     joined(device)       terminate device        identity-delete
 *   join container   -                    identify container      identity-create
 *   leave container  joined(container)    terminate container     identity-delete
 *   leave data       joined(producer)     determine activity      data
 *   join data        left(data)           instruct activity       orch-use
 *
 * A thing (device or container) is absent, joined or left; each join after a
 * leave starts a new generation (gen 1, 2, ...). A datum is absent or released
 * (it left its producer); it can be used by any number of activities. An
 * identical repeat of join, release, use or orchestrate is idempotent (result 0,
 * nothing recorded); a contradiction fails with its own error and changes
 * nothing:
 *   EF_ENOTJOINED   leave of a thing that is not joined (never joined, or left:
 *                   "leave twice"), or a record by / about a thing that is not joined
 *   EF_ENOTRELEASED use of a datum its producer has not released
 *   EF_ENOIDENT     a producer, consumer, container or host never identified
 *   EF_EBADSIG      the producer's signature of the data hash does not verify
 *   EF_EEXIST       a join of a joined thing, or a release of a released datum,
 *                   with different details
 *   EF_EPERM        the sender may not record this (see below)
 *   EF_ESTATE       deploy of a container on a thing that is not a device
 *   EF_EARGS        malformed arguments
 *
 * Who may record what: every sender must be an account of the registry (a member
 * of the ledger's domain). A thing records for itself, with its own key: join
 * (sender = key), leave (sender = key or owner), release (sender = the
 * producer's key), use (sender = the consuming thing's key). An orchestrator
 * agent records placements: deploy and teardown only by the container's owner.
 * Anyone registered may record the execution of a contract (its own agent).
 *
 * Methods (JSON args; ID = 1..64 of [A-Za-z0-9._-]; PUB, HASH = 64 hex digits):
 *   join        {"id", "kind": "device"|"container", "owner": PUB, "key": PUB
 *                [, "host": ID (container: a joined device)]}
 *   leave       {"id"}
 *   release     {"entity": ID, "activity": ID, "producer": ID, "hash": HASH,
 *                "size": N, "media_type": MT, "sig": 128 hex digits
 *                [, "receiver": ID]}         the signature is Ed25519 by the
 *                producer's key over tag EF_TAG_DATA || ef_prov_data_msg(...)
 *   use         {"entity": ID, "activity": ID, "by": ID [, "contract": NAME]}
 *                (a receiver named at release must be the activity; else EF_EPERM)
 *   orchestrate {"action": "deploy"|"teardown"|"execute"|"connect"|"disconnect",
 *                "activity": ID,
 *                deploy/teardown: "container": ID, "host": ID (deploy only);
 *                execute: "contract": NAME, "method": NAME;
 *                connect/disconnect (a tunnel to a deployed container, by
 *                anyone registered): "container": ID, "ref" (required);
 *                optional: "on_behalf_of": PUB, "ref": up to 128 of [A-Za-z0-9._:/-]}
 *
 * Records: every successful non-idempotent call appends one record, numbered from
 * 1, holding its PROV elements and relations (ids as qualified names: thing:ID,
 * data:ID, act:ID, acct:PUB; relation ids tx:TXHASH.N) with the transaction, block
 * height and block time as evidence. Event: prov_record {seq, type, tx}.
 *
 * Queries (GET /state/prov/...):
 *   stats                      {"records","elements","entities","activities",
 *                               "agents","relations"} of the whole ledger
 *   thing/ID, data/ID          current state of a thing / a datum
 *   records/FROM/TO            records of blocks FROM..TO (at most
 *                              EF_PROV_QUERY_MAX), as stored
 *   lineage/QNAME              {"root","nodes":[QNAME...],"steps":[{relation,
 *                               tx, height, time}...]}: everything QNAME derives
 *                               from (backwards along every relation, to the
 *                               identities and their owners) and the direct users
 *                               of the root
 *   export                     PROV-JSON of the whole record
 *   export/range/FROM/TO       PROV-JSON of the records of blocks FROM..TO
 *   export/lineage/QNAME       PROV-JSON of one lineage
 * Exports are deterministic: the same ledger gives the same document (fixed
 * prefix map, elements and relations in record order, xsd:dateTime times).
 */
#ifndef EF_PROV_H
#define EF_PROV_H

#include <jansson.h>

#include "base/ef_codec.h"
#include "ledger/ef_ctx.h"

#define EF_PROV_ID_MAX 64
#define EF_PROV_MEDIA_MAX 64
#define EF_PROV_REF_MAX 128
#define EF_PROV_QUERY_MAX 1000000   /* records one query or export walks */

extern const ef_contract ef_prov_contract;

/* The canonical bytes a producer signs (with tag EF_TAG_DATA) for a release:
 *   str chain_id | str entity | str activity | str producer | raw[32] hash |
 *   u64 size | str media_type
 * Returns 0 or the writer's error. */
int ef_prov_data_msg(ef_wr *w, const char *chain_id, const char *entity, const char *activity,
                     const char *producer, const ef_hash *hash, uint64_t size, const char *media_type);

/* Signs a release: fills sig_hex (129 bytes) with the producer's signature. */
int ef_prov_data_sign(char sig_hex[2 * EF_SIG_SIZE + 1], const ef_keypair *kp, const char *chain_id,
                      const char *entity, const char *activity, const char *producer, const ef_hash *hash,
                      uint64_t size, const char *media_type);

/* The data hash recorded for a blob: BLAKE2b-256(EF_TAG_DATA || bytes). */
void ef_prov_blob_hash(ef_hash *out, const void *data, size_t len);

/* true if s is a valid ID. */
bool ef_prov_id_ok(const char *s);

/* Graphviz DOT of a lineage answer (as returned by the lineage query), with PROV's
 * usual shapes: entities ellipses, activities boxes, agents houses. Returns a
 * malloc'd string or NULL. */
char *ef_prov_lineage_dot(const json_t *lineage);
/* SVG picture of a lineage answer (a simple layered layout, same shapes and
 * colours as the DOT). Returns a malloc'd string or NULL. */
char *ef_prov_lineage_svg(const json_t *lineage);

#endif
