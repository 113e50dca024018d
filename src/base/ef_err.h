/* ef_err.h: the project-wide error codes, their names, and always-on assertions. */
#ifndef EF_ERR_H
#define EF_ERR_H

#include <stdio.h>
#include <stdlib.h>

/* Every function that can fail returns 0 (EF_OK) or one of these negative codes.
 * Codes are stable: they appear in API errors ("code") and in stored tx results.
 * Append new codes at the end of the list (before EF_ERR_COUNT_) and name them in
 * ef_err.c; never renumber. */
typedef enum ef_err {
    EF_OK = 0,
    EF_ENOMEM = -1,      /* allocation failed */
    EF_EINVAL = -2,      /* invalid argument */
    EF_ETRUNC = -3,      /* encoding ends early */
    EF_ETRAILING = -4,   /* bytes left over after a complete value */
    EF_ETOOBIG = -5,     /* a length or size over its maximum */
    EF_ENONCANON = -6,   /* a value that has another, canonical encoding */
    EF_EBADSIG = -7,     /* signature does not verify */
    EF_ECHAIN = -8,      /* chain id of another chain */
    EF_ENONCE = -9,      /* nonce is not the sender's next (replay or gap) */
    EF_EEXIST = -10,     /* already exists */
    EF_ENOTFOUND = -11,  /* no such thing */
    EF_EPERM = -12,      /* caller lacks the role or is the wrong party */
    EF_ESTATE = -13,     /* not allowed in the current state */
    EF_EFUNDS = -14,     /* insufficient balance */
    EF_EIO = -15,        /* I/O error (sticky for storage) */
    EF_EDB = -16,        /* storage engine error */
    EF_EFULL = -17,      /* a bounded queue, pool or table is full */
    EF_ETIMEOUT = -18,   /* timed out */
    EF_EPROOF = -19,     /* proof does not verify */
    EF_ENOCONTRACT = -20,/* unknown contract */
    EF_ENOMETHOD = -21,  /* unknown method */
    EF_EARGS = -22,      /* malformed method arguments */
    EF_ELATE = -23,      /* deadline passed */
    EF_EDUP = -24,       /* duplicate (bid, vote, transaction) */
    EF_EOVERFLOW = -25,  /* arithmetic overflow */
    EF_EHEIGHT = -26,    /* wrong height */
    EF_EPREV = -27,      /* previous hash does not match */
    EF_EROOT = -28,      /* a Merkle root in a header does not match its content */
    EF_ECERT = -29,      /* commit certificate invalid */
    EF_ENOTVAL = -30,    /* signer is not a validator */
    EF_EPRICE = -31,     /* price above the maximum */
    EF_ELIMIT = -32,     /* per-transaction write/event/size limit exceeded */
    EF_ECONFIG = -33,    /* bad configuration or genesis */
    EF_ENET = -34,       /* network error */
    EF_EPROTO = -35,     /* protocol violation by a peer */
    EF_EAUTH = -36,      /* peer authentication failed */
    EF_ECLOSED = -37,    /* closed or shut down */
    EF_EAGAIN = -38,     /* try again later */
    EF_ECORRUPT = -39,   /* stored data damaged (not a torn last write) */
    EF_ENOACCOUNT = -40, /* sender has no account (the chain's contracts know it not) */
    EF_EGAP = -41,       /* nonce too far ahead of the sender's next (a gap) */
    EF_EQUOTA = -42,     /* sender has its maximum of pending transactions */
    EF_EEXPIRED = -43,   /* left the mempool unexecuted: older than its time to live */
    EF_EEVICTED = -44,   /* evicted from a full mempool to make room for a ready tx */
    EF_ENOTJOINED = -45, /* a device or container that is not joined (never, or left) */
    EF_ENOTRELEASED = -46,/* data used before its producer released it */
    EF_ENOIDENT = -47,   /* an identity (device, container) never recorded */
    EF_ERECORDED = -48,  /* already on the ledger (equivocation evidence reported twice) */
    EF_EOTHERSLA = -49,  /* a receipt of another SLA */
    EF_ESIGNER = -50,    /* signed by a key other than the one expected */
    EF_EEPOCH = -51,     /* epoch index outside the SLA */
    EF_EVERDICT = -52,   /* a receipt's verdict is not what its values and the rules give */
    EF_ENOTDOUBLE = -53, /* two receipts that do not prove a double signature */
    EF_EAREA = -54,      /* attachment point outside the offer's area */
    EF_EFROZEN = -55,    /* a domain frozen by conflicting certified headers */
    EF_ESTALE = -56,     /* a checkpoint at or below the last anchored height */
    EF_EROTATION = -57,  /* a header not signed by the tracked committee (a rotation skipped) */
    EF_ECOMMITTEE = -58, /* a committee that is not the one a header commits to */
    EF_EUNANCHORED = -59,/* a header neither anchored nor certified by the tracked committee */
    EF_ENOTCOMMITTEE = -60,/* not a member of the current committee */
    EF_EWINDOW = -61,    /* outside the epoch's window for this step (commit, reveal, election) */
    EF_EREVEAL = -62,    /* a revealed secret that does not match its commitment */
    EF_ENOCOMMIT = -63,  /* a reveal without a commitment */
    EF_EINELIGIBLE = -64,/* not an eligible device (no registry account, or a watcher) */
    EF_ENOCAP = -65,     /* not enough free capacity on a path (slice reservation) */
    EF_ELATENCY = -66,   /* a path's latency over the SLA's maximum */
    EF_ETOPO = -67,      /* a malformed topology (not a tree, bad link, unknown node) */
    EF_ENFORCE = -68,    /* the network refused an enforcement step (tc, nft, ip) */
    EF_EWITHHELD = -69,  /* a receipt the other side did not hand over in time */
    /* -70..-72 are kept for another branch */
    EF_ETEMPLATE = -73,  /* template bytes that do not hash to the id named (a modified template) */
    EF_ENOTEMPLATE = -74,/* an instance naming a template never published */
    EF_ENOTOWNER = -75,  /* neither the instance's owner nor the domain administrator */
    EF_EREF = -76,       /* a proof of another slice (ref or instance mismatch) */
    EF_EEVENT = -77,     /* a proof of another event than the step claimed */
    EF_ELOCKED = -78,    /* an instance administratively locked */
    EF_EBOUNDS = -79,    /* a service level outside the template's or the request's bounds */
    EF_ERR_COUNT_ = 80   /* one more than the largest magnitude */
} ef_err;

/* A short lower-case name for a code, e.g. "bad signature"; never NULL. */
const char *ef_strerror(int err);
/* A stable identifier for a code, e.g. "EBADSIG"; never NULL. */
const char *ef_errname(int err);

/* Assertions stay on in every build: a node that breaks an invariant dies. */
#define EF_ASSERT(cond)                                                         \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__,      \
                    __LINE__, __func__, #cond);                                 \
            abort();                                                            \
        }                                                                       \
    } while (0)

#define EF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define EF_MUST_USE __attribute__((warn_unused_result))

#endif
