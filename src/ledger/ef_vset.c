/* ef_vset.c: the validator set (see ef_vset.h). */
#include "ledger/ef_vset.h"

#include <string.h>

void ef_vset_init(ef_vset *vs)
{
    vs->len = 0;
}

/* Position where pub is or would be inserted; *found says which. */
static uint32_t ef_vset_lower(const ef_vset *vs, const ef_pub *pub, bool *found)
{
    uint32_t lo = 0, hi = vs->len;
    *found = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(vs->v[mid].pub.b, pub->b, EF_PUB_SIZE);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int ef_vset_add(ef_vset *vs, const ef_pub *pub, uint64_t power)
{
    EF_ASSERT(vs->len <= EF_VSET_MAX);
    if (power == 0 || power > EF_VSET_POWER_MAX) return EF_EINVAL;
    bool found;
    uint32_t i = ef_vset_lower(vs, pub, &found);
    if (found) return EF_EDUP;
    if (vs->len == EF_VSET_MAX) return EF_EFULL;
    memmove(&vs->v[i + 1], &vs->v[i], (vs->len - i) * sizeof vs->v[0]);
    vs->v[i].pub = *pub;
    vs->v[i].power = power;
    vs->len++;
    return 0;
}

int ef_vset_remove(ef_vset *vs, const ef_pub *pub)
{
    bool found;
    uint32_t i = ef_vset_lower(vs, pub, &found);
    if (!found) return EF_ENOTFOUND;
    memmove(&vs->v[i], &vs->v[i + 1], (vs->len - i - 1) * sizeof vs->v[0]);
    vs->len--;
    return 0;
}

int ef_vset_index(const ef_vset *vs, const ef_pub *pub)
{
    bool found;
    uint32_t i = ef_vset_lower(vs, pub, &found);
    return found ? (int)i : -1;
}

uint64_t ef_vset_total_power(const ef_vset *vs)
{
    uint64_t t = 0;
    for (uint32_t i = 0; i < vs->len; i++) t += vs->v[i].power;
    return t;
}

uint64_t ef_vset_quorum(const ef_vset *vs)
{
    uint64_t t = ef_vset_total_power(vs);  /* <= 2^55, so 2t cannot overflow */
    return 2 * t / 3 + 1;
}

bool ef_vset_valid(const ef_vset *vs)
{
    if (vs->len == 0 || vs->len > EF_VSET_MAX) return false;
    for (uint32_t i = 0; i < vs->len; i++) {
        if (vs->v[i].power == 0 || vs->v[i].power > EF_VSET_POWER_MAX) return false;
        if (i && memcmp(vs->v[i - 1].pub.b, vs->v[i].pub.b, EF_PUB_SIZE) >= 0) return false;
    }
    return true;
}

int ef_vset_encode(ef_wr *w, const ef_vset *vs)
{
    if (!ef_vset_valid(vs)) return EF_EINVAL;
    ef_wr_u32(w, vs->len);
    for (uint32_t i = 0; i < vs->len; i++) {
        ef_wr_raw(w, vs->v[i].pub.b, EF_PUB_SIZE);
        ef_wr_u64(w, vs->v[i].power);
    }
    return w->err;
}

int ef_vset_decode(ef_rd *r, ef_vset *vs)
{
    uint32_t len;
    vs->len = 0;
    int rc = ef_rd_u32(r, &len);
    if (rc) return rc;
    if (len == 0) return ef_rd_fail(r, EF_EINVAL);
    if (len > EF_VSET_MAX) return ef_rd_fail(r, EF_ETOOBIG);
    for (uint32_t i = 0; i < len; i++) {
        ef_validator *v = &vs->v[i];
        ef_rd_raw(r, v->pub.b, EF_PUB_SIZE);
        size_t at = r->off;
        if ((rc = ef_rd_u64(r, &v->power))) goto fail;
        if (v->power == 0 || v->power > EF_VSET_POWER_MAX) {
            r->off = at;
            rc = ef_rd_fail(r, EF_EINVAL);
            goto fail;
        }
        if (i && memcmp(vs->v[i - 1].pub.b, v->pub.b, EF_PUB_SIZE) >= 0) {
            r->off = at - EF_PUB_SIZE;
            rc = ef_rd_fail(r, EF_ENONCANON);
            goto fail;
        }
    }
    vs->len = len;
    return 0;
fail:
    vs->len = 0;
    return rc;
}

void ef_vset_hash(ef_hash *out, const ef_vset *vs)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_vset_encode(&w, vs);
    EF_ASSERT(rc == 0);
    ef_hash_tagged(out, EF_TAG_VSET, w.buf, w.len);
    ef_wr_free(&w);
}
