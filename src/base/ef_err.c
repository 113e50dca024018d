/* ef_err.c: names of the project-wide error codes. */
#include "ef_err.h"

static const struct { const char *id, *text; } ef_err_names[EF_ERR_COUNT_] = {
    [0] = {"OK", "ok"},
    [1] = {"ENOMEM", "out of memory"},
    [2] = {"EINVAL", "invalid argument"},
    [3] = {"ETRUNC", "truncated encoding"},
    [4] = {"ETRAILING", "trailing bytes after value"},
    [5] = {"ETOOBIG", "size over maximum"},
    [6] = {"ENONCANON", "non-canonical encoding"},
    [7] = {"EBADSIG", "bad signature"},
    [8] = {"ECHAIN", "wrong chain id"},
    [9] = {"ENONCE", "wrong nonce (replay or gap)"},
    [10] = {"EEXIST", "already exists"},
    [11] = {"ENOTFOUND", "not found"},
    [12] = {"EPERM", "not permitted"},
    [13] = {"ESTATE", "not allowed in current state"},
    [14] = {"EFUNDS", "insufficient funds"},
    [15] = {"EIO", "i/o error"},
    [16] = {"EDB", "storage error"},
    [17] = {"EFULL", "full"},
    [18] = {"ETIMEOUT", "timed out"},
    [19] = {"EPROOF", "proof does not verify"},
    [20] = {"ENOCONTRACT", "unknown contract"},
    [21] = {"ENOMETHOD", "unknown method"},
    [22] = {"EARGS", "malformed arguments"},
    [23] = {"ELATE", "deadline passed"},
    [24] = {"EDUP", "duplicate"},
    [25] = {"EOVERFLOW", "arithmetic overflow"},
    [26] = {"EHEIGHT", "wrong height"},
    [27] = {"EPREV", "previous hash mismatch"},
    [28] = {"EROOT", "merkle root mismatch"},
    [29] = {"ECERT", "invalid commit certificate"},
    [30] = {"ENOTVAL", "not a validator"},
    [31] = {"EPRICE", "price above maximum"},
    [32] = {"ELIMIT", "per-transaction limit exceeded"},
    [33] = {"ECONFIG", "bad configuration"},
    [34] = {"ENET", "network error"},
    [35] = {"EPROTO", "protocol violation"},
    [36] = {"EAUTH", "authentication failed"},
    [37] = {"ECLOSED", "closed"},
    [38] = {"EAGAIN", "try again"},
    [39] = {"ECORRUPT", "corrupt stored data"},
    [40] = {"ENOACCOUNT", "sender has no account"},
    [41] = {"EGAP", "nonce too far ahead"},
    [42] = {"EQUOTA", "too many pending transactions from this sender"},
    [43] = {"EEXPIRED", "expired in the mempool"},
    [44] = {"EEVICTED", "evicted from a full mempool"},
    [45] = {"ENOTJOINED", "not joined (never joined, or left)"},
    [46] = {"ENOTRELEASED", "data not released by its producer"},
    [47] = {"ENOIDENT", "unknown identity"},
    [48] = {"ERECORDED", "already recorded"},
    [49] = {"EOTHERSLA", "receipt of another SLA"},
    [50] = {"ESIGNER", "signed by an unexpected key"},
    [51] = {"EEPOCH", "epoch outside the SLA"},
    [52] = {"EVERDICT", "verdict does not match the values"},
    [53] = {"ENOTDOUBLE", "not a double receipt"},
    [54] = {"EAREA", "attachment point outside the area"},
    [55] = {"EFROZEN", "domain frozen by conflicting certified headers"},
    [56] = {"ESTALE", "checkpoint at or below the last anchored height"},
    [57] = {"EROTATION", "header not signed by the tracked committee (rotation skipped)"},
    [58] = {"ECOMMITTEE", "committee does not match the hash the header commits to"},
    [59] = {"EUNANCHORED", "header not anchored nor certified by the tracked committee"},
    [60] = {"ENOTCOMMITTEE", "not a member of the current committee"},
    [61] = {"EWINDOW", "outside the epoch's window for this step"},
    [62] = {"EREVEAL", "revealed secret does not match the commitment"},
    [63] = {"ENOCOMMIT", "no commitment to reveal"},
    [64] = {"EINELIGIBLE", "not an eligible device"},
    [65] = {"ENOCAP", "not enough capacity on the path"},
    [66] = {"ELATENCY", "path latency over the maximum"},
    [67] = {"ETOPO", "bad topology"},
    [68] = {"ENFORCE", "enforcement step failed"},
    [69] = {"EWITHHELD", "receipt withheld"},
    [73] = {"ETEMPLATE", "template bytes do not match its id"},
    [74] = {"ENOTEMPLATE", "unknown template"},
    [75] = {"ENOTOWNER", "not the instance's owner nor the administrator"},
    [76] = {"EREF", "proof of another slice"},
    [77] = {"EEVENT", "proof of another event"},
    [78] = {"ELOCKED", "instance administratively locked"},
    [79] = {"EBOUNDS", "service level out of bounds"},
};

static int ef_err_index(int err)
{
    int i = err < 0 ? -err : err;
    return (i < EF_ERR_COUNT_ && ef_err_names[i].id) ? i : -1;
}

const char *ef_strerror(int err)
{
    int i = ef_err_index(err);
    return i < 0 ? "unknown error" : ef_err_names[i].text;
}

const char *ef_errname(int err)
{
    int i = ef_err_index(err);
    return i < 0 ? "EUNKNOWN" : ef_err_names[i].id;
}
