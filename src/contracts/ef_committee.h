/* ef_committee.h: the committee contract of a domain ledger (seed 000, HIFL): the
 * domain administrator admits devices; every epoch the outgoing committee runs a
 * commit-reveal beacon, and the contract elects the next committee from the
 * eligible devices with it and schedules it as the validator set of the next
 * epoch. docs/hierarchy.md says what the randomness trusts and bounds the bias.
 *
 * Genesis params (genesis "params": {"committee": {...}}; no section: the
 * contract is off on this chain and every method fails with EF_ESTATE):
 *   "admin":          PUB   the domain administrator (a registry account)
 *   "size":           K     committee size, 1..EF_COMMITTEE_SIZE_MAX
 *   "epoch_heights":  L     nominal epoch length in heights, >= 4
 *   "commit_heights": C     optional, commit window, 1..L-3 (default (L-2)/2)
 *   "penalty_epochs": P     optional, 1..1000 (default 1): how many elections
 *                           a member that did not reveal sits out
 *   "devices":        [PUB] optional, devices eligible from genesis (registry
 *                           accounts); the genesis validators always are
 * Epoch 0's committee is the genesis validator set; it starts at height 1.
 *
 * Epoch e starts at height s (its committee signs from s). With L and C:
 *   commit window   s <= h < s + C                 members commit
 *   reveal window   s + C <= h < s + L - 2         members reveal
 *   election        h >= s + L - 2                 anyone calls elect
 * The election at height h schedules the new set from h + EF_VSET_DELAY (= 2),
 * which is where epoch e + 1 starts: s + L if it is called on time, later if
 * not (the history records every start). The candidate set is frozen from the
 * reveal window to the election: admit and remove are refused then (EF_EWINDOW).
 *
 * Methods (JSON args; epoch = the current epoch's number, which makes a late
 * transaction fail instead of counting in another epoch):
 *   admit   {"device": PUB}                         admin only
 *   remove  {"device": PUB}                         admin only
 *   commit  {"epoch": E, "commitment": HEX64}      a member of epoch E's committee
 *   reveal  {"epoch": E, "secret": HEX64}          a member that committed
 *   elect   {"epoch": E}                            any account
 * Commitment, seed and ranks: base/ef_beacon.h. The anchor is the previous
 * block hash seen by the last commit of the epoch (the hash of a block before
 * the reveal window opened, which no secret had left a member by then); with no
 * commit at all, the one seen by elect.
 * Election: seed from the reveals in key order and the anchor; members of the
 * committee that did not reveal (no commit, or a commit not revealed) are
 * recorded as missed (their device record's "missed" count, the epoch's
 * "missed" list) and sit out the next P elections ("excluded_until": e + P);
 * the candidates are the eligible devices not excluded; the K of smallest rank
 * are the committee of e + 1 (all of them if fewer; if none, the committee
 * stays), scheduled with power 1 each.
 *
 * Errors, each changing nothing: EF_EARGS (malformed, unknown fields),
 * EF_ESTATE (no committee on this chain), EF_EPERM (admit/remove not by the
 * admin), EF_EINELIGIBLE (admit of a key without a registry account, or of a
 * regulator), EF_EEXIST (admitted already), EF_ENOTFOUND (remove of a device not
 * admitted), EF_EFULL (EF_COMMITTEE_DEVICES_MAX devices), EF_EWINDOW (not the
 * current epoch, or outside the step's window), EF_ENOTCOMMITTEE (commit/reveal
 * by a non-member), EF_EDUP (a second commit or reveal), EF_ENOCOMMIT (reveal
 * without commit), EF_EREVEAL (secret not matching the commitment).
 *
 * Events: device_admitted {"device"}, device_removed {"device"},
 *   committed {"epoch","member"}, revealed {"epoch","member"},
 *   committee_elected {"epoch","start","committee","seed","revealed","missed",
 *   "elected_at"} (epoch: the new one).
 *
 * Queries (GET /state/committee/...):
 *   config                {"admin","size","epoch_heights","commit_heights","penalty_epochs"}
 *   devices               [{"device","admitted_at","missed","excluded_until","eligible"}]
 *                         (eligible: a candidate at the election ending the current epoch)
 *   current               {"epoch","start","committee","commit_end","reveal_end",
 *                          "elect_from","phase","committed","revealed","anchor_height"?}
 *   epochs                every finished epoch, oldest first (as epoch/{N})
 *   epoch/{N}             {"epoch","start","committee","committed","revealed","missed",
 *                          "anchor_height","anchor_hash","seed","elected_at",
 *                          "next_committee"}
 *
 * State (namespace "committee"), canonical JSON values (ef_ctx_put_json):
 *   "cfg"                 the config
 *   "d" + raw[32] device  {"admitted_at","missed","excluded_until"}
 *   "ndev"                u64 le, number of devices
 *   "cur"                 {"epoch","start","committee":[PUB..],"commits":{PUB:HEX},
 *                          "reveals":{PUB:HEX},"anchor_height"?,"anchor_hash"?}
 *   "h" + u64 BE epoch    the finished epoch's record (as epoch/{N})
 */
#ifndef EF_COMMITTEE_H
#define EF_COMMITTEE_H

#include "ledger/ef_ctx.h"

#define EF_COMMITTEE_SIZE_MAX 64        /* one election's writes stay under EF_CTX_WRITES_MAX */
#define EF_COMMITTEE_DEVICES_MAX 4096
#define EF_COMMITTEE_EPOCH_MIN 4
#define EF_COMMITTEE_EPOCH_MAX 1000000
#define EF_COMMITTEE_PENALTY_MAX 1000

extern const ef_contract ef_committee_contract;

#endif
