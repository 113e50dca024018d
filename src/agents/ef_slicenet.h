/* ef_slicenet.h: enforcement of the slices of an ef_slice_db on a real (emulated)
 * network: every switch and host of the tree a network namespace, every link a
 * veth pair, every slice an htb class with its guaranteed rate on every link of
 * its path plus a u32 filter that puts the slice's traffic in it; best effort in
 * a default class; loss injected by an nftables random-drop rule.
 *
 * Two modes, chosen at ef_slicenet_open:
 *
 *   "netns"    (root) builds the tree. Node i is namespace PREFIX-i; the link
 *              of node i to its parent p is a veth pair "uplink" (in PREFIX-i) and
 *              "dI" (in PREFIX-p), subnet 10.O.I.0/30 (O = cfg.octet): the
 *              parent side .1, the child side .2, which is node i's address;
 *              the root's address is 10.O.0.1 on its loopback. Routes: the
 *              default towards the parent, each descendant's /30 towards the
 *              child that leads to it; IPv4 forwarding on. On both ends of
 *              every link an htb root (handle 1:, class 1:1 with rate = ceil =
 *              the link's capacity, so a veth carries no more than its link),
 *              best effort in class 1:ffff (rate 8 kbit, ceil the capacity,
 *              lowest priority). A slice on slot s: class 1:(0x10+s) with rate
 *              = its kbps, ceil = the capacity, priority 0, and a u32 filter
 *              (priority 100+s) on UDP destination port `port` on the egress
 *              device of each link of its path, in both directions. So a
 *              slice gets its rate while best effort takes what is left.
 *              Latency is NOT emulated (there is no netem here): a link's
 *              latency_us is a database figure only; the measured delay is
 *              the real one of the namespaces (tens of µs plus queueing).
 *   "process"  no root, nothing built, nothing enforced: stitch and unstitch
 *              only record (so the controller and the contract can be tested);
 *              every node's address is 127.0.0.1. It does NOT enforce bandwidth
 *              and cannot inject loss (ef_slicenet_loss: EF_ESTATE).
 *
 * Commands run through agents/ef_proc.h (argv only, no shell): `ip -n NS`,
 * `tc -n NS -batch -`, `ip netns exec NS nft|sysctl`. With cfg.log set each
 * command line and its output are appended there.
 *
 * Threading: one mutex per ef_slicenet; calls are thread-safe and block (a
 * stitch runs one tc batch per namespace of the path, those batches in
 * parallel threads: milliseconds).
 * Errors: EF_EINVAL, EF_EPERM (netns without root), EF_EEXIST (a namespace
 * with the prefix exists, or the slice is stitched), EF_ENOTFOUND, EF_EFULL
 * (EF_SLICENET_SLOTS_MAX slices), EF_ENFORCE (a command failed; what it said
 * is logged), EF_ESTATE, EF_ENOMEM.
 */
#ifndef EF_SLICENET_H
#define EF_SLICENET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agents/ef_slice.h"
#include "base/ef_err.h"

#define EF_SLICENET_PREFIX_MAX 12        /* namespace name prefix */
#define EF_SLICENET_NS_MAX 48            /* a namespace name incl. NUL (generous for gcc) */
#define EF_SLICENET_SLOTS_MAX 1024       /* slices stitched at once */
#define EF_SLICENET_IP_MAX 48
#define EF_SLICENET_PATHNAME_MAX 512

typedef struct ef_slicenet_cfg {
    const char *mode;      /* "netns" or "process" */
    const char *prefix;    /* netns: namespace prefix, 1..EF_SLICENET_PREFIX_MAX of [a-z0-9] */
    uint8_t octet;         /* netns: addresses 10.octet.x.y (1..254) */
    const char *log;       /* command log file, or NULL */
} ef_slicenet_cfg;

typedef struct ef_slicenet ef_slicenet;

/* Builds the network for db's topology (netns) or nothing (process). db is
 * borrowed and must outlive the ef_slicenet. On failure everything created is
 * removed. */
EF_MUST_USE int ef_slicenet_open(ef_slicenet **out, ef_slice_db *db, const ef_slicenet_cfg *cfg);
/* Removes every slice and (netns) every namespace it made. NULL ok. */
void ef_slicenet_close(ef_slicenet *net);
bool ef_slicenet_enforcing(const ef_slicenet *net);   /* true for netns */

/* The namespace (NULL in process mode) and address of node i. */
const char *ef_slicenet_ns(const ef_slicenet *net, int node);
const char *ef_slicenet_ip(const ef_slicenet *net, int node);

/* Enforces slice id: kbps guaranteed on every link of path for UDP port
 * `port` (both directions). Returns 0; EF_EEXIST if id is stitched; on
 * EF_ENFORCE nothing of it is left. *took_us (may be NULL) gets the time the
 * commands took. */
EF_MUST_USE int ef_slicenet_stitch(ef_slicenet *net, const char *id, uint64_t kbps, const ef_slice_path *path,
                                   uint16_t port, uint64_t *took_us);
/* Removes slice id's classes and filters. EF_ENOTFOUND if not stitched. */
int ef_slicenet_unstitch(ef_slicenet *net, const char *id);
/* Drops pct % (0..100) of the UDP packets to `port` forwarded by node (an
 * nftables rule `udp dport PORT numgen random mod 100 < PCT drop` in the
 * node's forward chain); pct 0 removes it. netns only (EF_ESTATE otherwise). */
int ef_slicenet_loss(ef_slicenet *net, int node, uint16_t port, unsigned pct);

/* As ef_slicenet_loss in any namespace ns (root; the caller's own): for a
 * tool that did not build the network. log as cfg.log. EF_EINVAL, EF_EPERM,
 * EF_ENFORCE. */
int ef_slicenet_loss_ns(const char *ns, uint16_t port, unsigned pct, const char *log);

/* Forgets every slice without running a command: for a caller about to close
 * the network (the namespaces take the classes and filters with them), so a
 * shutdown with many slices is not thousands of tc calls. */
void ef_slicenet_forget_all(ef_slicenet *net);

/* Slices stitched now. */
size_t ef_slicenet_count(ef_slicenet *net);

#endif
