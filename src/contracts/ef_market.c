/* ef_market.c: the market contract: EN registry with a grid index and the
 * contract-decided match of devices to ENs (see ef_market.h). */
#include "contracts/ef_market.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "contracts/ef_registry.h"

/* State (namespace "market"; integers in keys big-endian so key order is
 * numeric order; records in the canonical codec):
 *   "P"                            params: u64 cell_m, u64 ring_max, u64 cell_max, u64 ttl_max
 *   "N" / "M"                      u64 next EN id / next match id (from 1)
 *   "e" id8                        EN record (ef_mkt_en below)
 *   "g" cx4 cy4 id8                "" : active EN in cell (cx, cy)
 *   "G" cx4 cy4                    u64 number of active ENs in that cell
 *   "o" company32 id8              "" : EN of company (active or retired)
 *   "m" id8                        match record (ef_mkt_match below)
 *   "d" device32 id8               "" : match of device
 *   "x" expiry8 id8                "" : active match by expiry height
 *   "s" company32                  company stats (ef_mkt_stats below)
 *
 * EN record:    u64 id, raw32 company, u32 x, u32 y, u64 cpu, u64 mem, u64 slots,
 *               u64 cpu_used, u64 mem_used, u64 slots_used, u64 price,
 *               u8 n, n x str service, str endpoint, u8 active, u64 registered,
 *               u64 updated, u64 matches
 * match record: u64 id, raw32 device, u32 x, u32 y, str service, u64 cpu,
 *               u64 mem, u64 slots, u64 max_dist, u64 max_price, u64 expiry,
 *               u64 en, raw32 company, u32 en_x, u32 en_y, u64 price, u64 dist2,
 *               u32 scanned, u32 eligible, u32 rings, u32 cells, u64 height,
 *               u8 state (1 active, 2 ended, 3 expired), u64 ended_height
 * stats:        u64 ens, matches_won, matches_active, cpu, cpu_used, mem,
 *               mem_used, slots, slots_used (capacity sums over active ENs;
 *               used sums over all ENs) */

#define EF_MKT_NAME "market"

typedef struct ef_mkt_params {
    uint64_t cell_m, ring_max, cell_max, ttl_max;
} ef_mkt_params;

typedef struct ef_mkt_en {
    uint64_t id;
    ef_pub company;
    uint32_t x, y;
    uint64_t cpu, mem, slots;
    uint64_t cpu_used, mem_used, slots_used;
    uint64_t price;
    uint8_t nserv;
    char serv[EF_MKT_SERVICES_MAX][EF_MKT_SERVICE_MAX + 1];
    char endpoint[EF_MKT_ENDPOINT_MAX + 1];
    uint8_t active;
    uint64_t registered, updated, matches;
} ef_mkt_en;

enum { EF_MKT_ACTIVE = 1, EF_MKT_ENDED = 2, EF_MKT_EXPIRED = 3 };
static const char *const ef_mkt_state_names[] = {"?", "active", "ended", "expired"};

typedef struct ef_mkt_match {
    uint64_t id;
    ef_pub device;
    ef_mkt_req req;
    uint64_t en;
    ef_pub company;
    uint32_t en_x, en_y;
    uint64_t price, dist2;
    uint32_t scanned, eligible, rings, cells;
    uint64_t height;
    uint8_t state;
    uint64_t ended;
} ef_mkt_match;

typedef struct ef_mkt_stats {
    uint64_t ens, won, active, cpu, cpu_used, mem, mem_used, slots, slots_used;
} ef_mkt_stats;

/* --- small helpers --- */


static json_t *ef_pub_json(const ef_pub *p)
{
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, p->b, EF_PUB_SIZE);
    return json_string(hex);
}

static int ef_mkt_emit(ef_ctx *ctx, const char *name, json_t *ev)
{
    int rc = ev ? ef_ctx_emit(ctx, name, ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

uint64_t ef_mkt_dist2(uint32_t ax, uint32_t ay, uint32_t bx, uint32_t by)
{
    uint64_t dx = ax > bx ? (uint64_t)ax - bx : (uint64_t)bx - ax;
    uint64_t dy = ay > by ? (uint64_t)ay - by : (uint64_t)by - ay;
    return dx * dx + dy * dy;
}

uint64_t ef_mkt_rings(uint64_t max_dist, uint64_t cell_m)
{
    EF_ASSERT(cell_m > 0);
    return max_dist / cell_m + (max_dist % cell_m != 0);
}

static int ef_mkt_u64_get(ef_ctx *ctx, const char *key, uint64_t *out)
{
    const uint8_t *v;
    size_t n;
    *out = 0;
    int rc = ef_ctx_get(ctx, key, strlen(key), &v, &n);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    if (n != 8) return EF_EDB;
    *out = ef_get_u64le(v);
    return 0;
}

static int ef_mkt_u64_put(ef_ctx *ctx, const char *key, uint64_t v)
{
    uint8_t b[8];
    ef_put_u64le(b, v);
    return ef_ctx_put(ctx, key, strlen(key), b, 8);
}

/* Next id from counter key (ids from 1). */
static int ef_mkt_next_id(ef_ctx *ctx, const char *key, uint64_t *id)
{
    int rc = ef_mkt_u64_get(ctx, key, id);
    if (rc) return rc;
    if (*id == 0) *id = 1;
    return ef_mkt_u64_put(ctx, key, *id + 1);
}

static int ef_mkt_params_get(ef_ctx *ctx, ef_mkt_params *p)
{
    const uint8_t *v;
    size_t n;
    int rc = ef_ctx_get(ctx, "P", 1, &v, &n);
    if (rc == EF_ENOTFOUND) {
        *p = (ef_mkt_params){EF_MKT_CELL_DEFAULT, EF_MKT_RING_DEFAULT, EF_MKT_CELL_MAX_DEFAULT,
                             EF_MKT_TTL_DEFAULT};
        return 0;
    }
    if (rc) return rc;
    if (n != 32) return EF_EDB;
    p->cell_m = ef_get_u64le(v);
    p->ring_max = ef_get_u64le(v + 8);
    p->cell_max = ef_get_u64le(v + 16);
    p->ttl_max = ef_get_u64le(v + 24);
    return p->cell_m ? 0 : EF_EDB;
}

/* --- records --- */

static void ef_en_key(uint8_t k[9], uint64_t id)
{
    k[0] = 'e';
    ef_put_u64be(k + 1, id);
}

static int ef_en_get(ef_ctx *ctx, uint64_t id, ef_mkt_en *e)
{
    uint8_t k[9];
    const uint8_t *v;
    size_t n;
    memset(e, 0, sizeof *e);
    ef_en_key(k, id);
    int rc = ef_ctx_get(ctx, k, sizeof k, &v, &n);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, v, n);
    ef_rd_u64(&r, &e->id);
    ef_rd_raw(&r, e->company.b, EF_PUB_SIZE);
    ef_rd_u32(&r, &e->x);
    ef_rd_u32(&r, &e->y);
    ef_rd_u64(&r, &e->cpu);
    ef_rd_u64(&r, &e->mem);
    ef_rd_u64(&r, &e->slots);
    ef_rd_u64(&r, &e->cpu_used);
    ef_rd_u64(&r, &e->mem_used);
    ef_rd_u64(&r, &e->slots_used);
    ef_rd_u64(&r, &e->price);
    ef_rd_u8(&r, &e->nserv);
    if (e->nserv > EF_MKT_SERVICES_MAX) return EF_EDB;
    for (int i = 0; i < e->nserv; i++) ef_rd_str(&r, e->serv[i], sizeof e->serv[i]);
    ef_rd_str(&r, e->endpoint, sizeof e->endpoint);
    ef_rd_u8(&r, &e->active);
    ef_rd_u64(&r, &e->registered);
    ef_rd_u64(&r, &e->updated);
    ef_rd_u64(&r, &e->matches);
    return ef_rd_finish(&r) ? EF_EDB : 0;
}

static int ef_en_put(ef_ctx *ctx, const ef_mkt_en *e)
{
    uint8_t k[9];
    ef_wr w;
    ef_en_key(k, e->id);
    ef_wr_init(&w);
    ef_wr_u64(&w, e->id);
    ef_wr_raw(&w, e->company.b, EF_PUB_SIZE);
    ef_wr_u32(&w, e->x);
    ef_wr_u32(&w, e->y);
    ef_wr_u64(&w, e->cpu);
    ef_wr_u64(&w, e->mem);
    ef_wr_u64(&w, e->slots);
    ef_wr_u64(&w, e->cpu_used);
    ef_wr_u64(&w, e->mem_used);
    ef_wr_u64(&w, e->slots_used);
    ef_wr_u64(&w, e->price);
    ef_wr_u8(&w, e->nserv);
    for (int i = 0; i < e->nserv; i++) ef_wr_str(&w, e->serv[i]);
    ef_wr_str(&w, e->endpoint);
    ef_wr_u8(&w, e->active);
    ef_wr_u64(&w, e->registered);
    ef_wr_u64(&w, e->updated);
    ef_wr_u64(&w, e->matches);
    int rc = w.err ? w.err : ef_ctx_put(ctx, k, sizeof k, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

static void ef_match_key(uint8_t k[9], uint64_t id)
{
    k[0] = 'm';
    ef_put_u64be(k + 1, id);
}

static int ef_match_decode(ef_mkt_match *m, const uint8_t *v, size_t n)
{
    ef_rd r;
    memset(m, 0, sizeof *m);
    ef_rd_init(&r, v, n);
    ef_rd_u64(&r, &m->id);
    ef_rd_raw(&r, m->device.b, EF_PUB_SIZE);
    ef_rd_u32(&r, &m->req.x);
    ef_rd_u32(&r, &m->req.y);
    ef_rd_str(&r, m->req.service, sizeof m->req.service);
    ef_rd_u64(&r, &m->req.cpu_milli);
    ef_rd_u64(&r, &m->req.mem_mb);
    ef_rd_u64(&r, &m->req.slots);
    ef_rd_u64(&r, &m->req.max_dist);
    ef_rd_u64(&r, &m->req.max_price);
    ef_rd_u64(&r, &m->req.expiry);
    ef_rd_u64(&r, &m->en);
    ef_rd_raw(&r, m->company.b, EF_PUB_SIZE);
    ef_rd_u32(&r, &m->en_x);
    ef_rd_u32(&r, &m->en_y);
    ef_rd_u64(&r, &m->price);
    ef_rd_u64(&r, &m->dist2);
    ef_rd_u32(&r, &m->scanned);
    ef_rd_u32(&r, &m->eligible);
    ef_rd_u32(&r, &m->rings);
    ef_rd_u32(&r, &m->cells);
    ef_rd_u64(&r, &m->height);
    ef_rd_u8(&r, &m->state);
    ef_rd_u64(&r, &m->ended);
    m->req.en = m->en;
    return ef_rd_finish(&r) || m->state < 1 || m->state > 3 ? EF_EDB : 0;
}

static int ef_match_get(ef_ctx *ctx, uint64_t id, ef_mkt_match *m)
{
    uint8_t k[9];
    const uint8_t *v;
    size_t n;
    ef_match_key(k, id);
    int rc = ef_ctx_get(ctx, k, sizeof k, &v, &n);
    if (rc) return rc;
    return ef_match_decode(m, v, n);
}

static int ef_match_put(ef_ctx *ctx, const ef_mkt_match *m)
{
    uint8_t k[9];
    ef_wr w;
    ef_match_key(k, m->id);
    ef_wr_init(&w);
    ef_wr_u64(&w, m->id);
    ef_wr_raw(&w, m->device.b, EF_PUB_SIZE);
    ef_wr_u32(&w, m->req.x);
    ef_wr_u32(&w, m->req.y);
    ef_wr_str(&w, m->req.service);
    ef_wr_u64(&w, m->req.cpu_milli);
    ef_wr_u64(&w, m->req.mem_mb);
    ef_wr_u64(&w, m->req.slots);
    ef_wr_u64(&w, m->req.max_dist);
    ef_wr_u64(&w, m->req.max_price);
    ef_wr_u64(&w, m->req.expiry);
    ef_wr_u64(&w, m->en);
    ef_wr_raw(&w, m->company.b, EF_PUB_SIZE);
    ef_wr_u32(&w, m->en_x);
    ef_wr_u32(&w, m->en_y);
    ef_wr_u64(&w, m->price);
    ef_wr_u64(&w, m->dist2);
    ef_wr_u32(&w, m->scanned);
    ef_wr_u32(&w, m->eligible);
    ef_wr_u32(&w, m->rings);
    ef_wr_u32(&w, m->cells);
    ef_wr_u64(&w, m->height);
    ef_wr_u8(&w, m->state);
    ef_wr_u64(&w, m->ended);
    int rc = w.err ? w.err : ef_ctx_put(ctx, k, sizeof k, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

static void ef_stats_key(uint8_t k[1 + EF_PUB_SIZE], const ef_pub *company)
{
    k[0] = 's';
    memcpy(k + 1, company->b, EF_PUB_SIZE);
}

static int ef_stats_decode(ef_mkt_stats *st, const uint8_t *v, size_t n)
{
    if (n != 9 * 8) return EF_EDB;
    uint64_t *f = &st->ens;
    for (int i = 0; i < 9; i++) f[i] = ef_get_u64le(v + 8 * i);
    return 0;
}

static int ef_stats_get(ef_ctx *ctx, const ef_pub *company, ef_mkt_stats *st)
{
    uint8_t k[1 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n;
    memset(st, 0, sizeof *st);
    ef_stats_key(k, company);
    int rc = ef_ctx_get(ctx, k, sizeof k, &v, &n);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    return ef_stats_decode(st, v, n);
}

static int ef_stats_put(ef_ctx *ctx, const ef_pub *company, const ef_mkt_stats *st)
{
    uint8_t k[1 + EF_PUB_SIZE], v[9 * 8];
    const uint64_t *f = &st->ens;
    ef_stats_key(k, company);
    for (int i = 0; i < 9; i++) ef_put_u64le(v + 8 * i, f[i]);
    return ef_ctx_put(ctx, k, sizeof k, v, sizeof v);
}

/* st += sign * e's contribution (capacity only if active). */
static void ef_stats_apply(ef_mkt_stats *st, const ef_mkt_en *e, bool add)
{
    uint64_t a[7] = {e->active ? 1u : 0u, e->active ? e->cpu : 0, e->cpu_used,
                     e->active ? e->mem : 0, e->mem_used, e->active ? e->slots : 0, e->slots_used};
    uint64_t *f[7] = {&st->ens, &st->cpu, &st->cpu_used, &st->mem, &st->mem_used, &st->slots,
                      &st->slots_used};
    for (int i = 0; i < 7; i++) {
        if (add) *f[i] += a[i];
        else {
            EF_ASSERT(*f[i] >= a[i]);
            *f[i] -= a[i];
        }
    }
}

static void ef_cell_key(uint8_t *k, char tag, uint32_t cx, uint32_t cy)
{
    k[0] = (uint8_t)tag;
    ef_put_u32be(k + 1, cx);
    ef_put_u32be(k + 5, cy);
}

/* Adds (add) or removes EN id from cell (cx, cy), keeping the cell's count;
 * EF_EFULL when adding to a full cell. */
static int ef_cell_update(ef_ctx *ctx, const ef_mkt_params *p, uint32_t cx, uint32_t cy, uint64_t id,
                          bool add)
{
    uint8_t k[17], ck[9], cnt[8];
    const uint8_t *v;
    size_t n;
    uint64_t count = 0;
    ef_cell_key(ck, 'G', cx, cy);
    int rc = ef_ctx_get(ctx, ck, sizeof ck, &v, &n);
    if (rc == 0 && n == 8) count = ef_get_u64le(v);
    else if (rc != EF_ENOTFOUND) return rc ? rc : EF_EDB;
    ef_cell_key(k, 'g', cx, cy);
    ef_put_u64be(k + 9, id);
    if (add) {
        if (count >= p->cell_max) return EF_EFULL;
        count++;
        if ((rc = ef_ctx_put(ctx, k, sizeof k, "", 0))) return rc;
    } else {
        EF_ASSERT(count > 0);
        count--;
        if ((rc = ef_ctx_del(ctx, k, sizeof k))) return rc;
    }
    if (count == 0) return ef_ctx_del(ctx, ck, sizeof ck);
    ef_put_u64le(cnt, count);
    return ef_ctx_put(ctx, ck, sizeof ck, cnt, 8);
}

/* Saves EN `e` whose previous version is `old` (NULL if new): record, cell
 * index and the company's stats. */
static int ef_en_save(ef_ctx *ctx, const ef_mkt_params *p, const ef_mkt_en *old, const ef_mkt_en *e)
{
    ef_mkt_stats st;
    int rc;
    uint32_t ocx = 0, ocy = 0, ncx = (uint32_t)(e->x / p->cell_m), ncy = (uint32_t)(e->y / p->cell_m);
    if (old) {
        ocx = (uint32_t)(old->x / p->cell_m);
        ocy = (uint32_t)(old->y / p->cell_m);
    }
    bool was_in = old && old->active, now_in = e->active;
    bool moved = !was_in || !now_in || ocx != ncx || ocy != ncy;
    if (was_in && moved && (rc = ef_cell_update(ctx, p, ocx, ocy, e->id, false))) return rc;
    if (now_in && moved && (rc = ef_cell_update(ctx, p, ncx, ncy, e->id, true))) return rc;
    if ((rc = ef_stats_get(ctx, &e->company, &st))) return rc;
    if (old) ef_stats_apply(&st, old, false);
    ef_stats_apply(&st, e, true);
    if ((rc = ef_stats_put(ctx, &e->company, &st))) return rc;
    return ef_en_put(ctx, e);
}

/* --- argument checks --- */

static bool ef_mkt_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", s[i])) return false;
    return true;
}

static bool ef_mkt_endpoint_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > EF_MKT_ENDPOINT_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 32 || c >= 127 || strchr("\"'<>\\`{}|^", c)) return false;
    }
    return true;
}

static int ef_mkt_coord(const json_t *args, const char *f, uint32_t *out)
{
    uint64_t v;
    if (ef_args_u64(args, f, &v) || v > EF_MKT_COORD_MAX) return EF_EARGS;
    *out = (uint32_t)v;
    return 0;
}

static int ef_mkt_res(const json_t *args, const char *f, uint64_t *out)
{
    if (ef_args_u64(args, f, out) || *out > EF_MKT_RES_MAX) return EF_EARGS;
    return 0;
}

/* Reads the EN fields present in args into e (all required when `all`). */
static int ef_en_fields(const json_t *args, ef_mkt_en *e, bool all, int *present)
{
    *present = 0;
#define EF_HAS(f) (json_object_get(args, f) != NULL)
    if (all || EF_HAS("x")) { if (ef_mkt_coord(args, "x", &e->x)) return EF_EARGS; ++*present; }
    if (all || EF_HAS("y")) { if (ef_mkt_coord(args, "y", &e->y)) return EF_EARGS; ++*present; }
    if (all || EF_HAS("cpu_milli")) { if (ef_mkt_res(args, "cpu_milli", &e->cpu)) return EF_EARGS; ++*present; }
    if (all || EF_HAS("mem_mb")) { if (ef_mkt_res(args, "mem_mb", &e->mem)) return EF_EARGS; ++*present; }
    if (all || EF_HAS("slots")) {
        if (ef_mkt_res(args, "slots", &e->slots) || e->slots == 0) return EF_EARGS;
        ++*present;
    }
    if (all || EF_HAS("price")) {
        if (ef_args_u64(args, "price", &e->price)) return EF_EARGS;
        ++*present;
    }
    if (all || EF_HAS("endpoint")) {
        const char *ep;
        if (ef_args_str(args, "endpoint", &ep, EF_MKT_ENDPOINT_MAX) || !ef_mkt_endpoint_ok(ep))
            return EF_EARGS;
        snprintf(e->endpoint, sizeof e->endpoint, "%s", ep);
        ++*present;
    }
    if (all || EF_HAS("services")) {
        const json_t *a = json_object_get(args, "services");
        size_t n = json_array_size(a);
        if (!json_is_array(a) || n == 0 || n > EF_MKT_SERVICES_MAX) return EF_EARGS;
        for (size_t i = 0; i < n; i++) {
            const char *s = json_string_value(json_array_get(a, i));
            if (!s || !ef_mkt_name_ok(s, EF_MKT_SERVICE_MAX)) return EF_EARGS;
            for (size_t j = 0; j < i; j++)
                if (!strcmp(e->serv[j], s)) return EF_EARGS;   /* listed twice */
            snprintf(e->serv[i], sizeof e->serv[i], "%s", s);
        }
        e->nserv = (uint8_t)n;
        ++*present;
    }
#undef EF_HAS
    return 0;
}

int ef_mkt_req_parse(const json_t *args, ef_mkt_req *out)
{
    static const char *const f[] = {"x", "y", "service", "cpu_milli", "mem_mb", "slots", "max_dist",
                                    "max_price", "expiry", "en", NULL};
    const char *service;
    memset(out, 0, sizeof *out);
    if (ef_args_only(args, f) || ef_mkt_coord(args, "x", &out->x) || ef_mkt_coord(args, "y", &out->y) ||
        ef_args_str(args, "service", &service, EF_MKT_SERVICE_MAX) ||
        !ef_mkt_name_ok(service, EF_MKT_SERVICE_MAX) || ef_mkt_res(args, "cpu_milli", &out->cpu_milli) ||
        ef_mkt_res(args, "mem_mb", &out->mem_mb) || ef_mkt_res(args, "slots", &out->slots) ||
        out->slots == 0 || ef_args_u64(args, "max_dist", &out->max_dist) ||
        out->max_dist > EF_MKT_COORD_MAX || ef_args_u64(args, "max_price", &out->max_price) ||
        ef_args_u64(args, "expiry", &out->expiry) ||
        (json_object_get(args, "en") && (ef_args_u64(args, "en", &out->en) || out->en == 0))) {
        memset(out, 0, sizeof *out);
        return EF_EARGS;
    }
    snprintf(out->service, sizeof out->service, "%s", service);
    return 0;
}

/* --- sender checks --- */

/* The sender must be a company: role validator. */
static int ef_mkt_company(ef_ctx *ctx)
{
    ef_role role;
    int rc = ef_registry_role(ctx, ef_ctx_sender(ctx), &role, NULL);
    if (rc) return rc;
    return role == EF_ROLE_VALIDATOR ? 0 : EF_ENOTVAL;
}

/* --- expiry --- */

struct ef_mkt_due {
    uint64_t height;
    uint64_t ids[EF_MKT_EXPIRE_MAX];
    size_t n, max;
};

static int ef_mkt_due_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_mkt_due *d = arg;
    (void)val;
    (void)val_len;
    if (key_len != 17) return EF_EDB;
    if (ef_get_u64be(key + 1) > d->height || d->n == d->max) return 1;
    d->ids[d->n++] = ef_get_u64be(key + 9);
    return 0;
}

/* Releases the capacity of match m (active) into its EN and updates stats; the
 * match gets state `state`. */
static int ef_mkt_release(ef_ctx *ctx, const ef_mkt_params *p, ef_mkt_match *m, uint8_t state)
{
    ef_mkt_en e, old;
    uint8_t xk[17];
    int rc = ef_en_get(ctx, m->en, &e);
    if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
    old = e;
    EF_ASSERT(e.cpu_used >= m->req.cpu_milli && e.mem_used >= m->req.mem_mb && e.slots_used >= m->req.slots);
    e.cpu_used -= m->req.cpu_milli;
    e.mem_used -= m->req.mem_mb;
    e.slots_used -= m->req.slots;
    if ((rc = ef_en_save(ctx, p, &old, &e))) return rc;
    ef_mkt_stats st;
    if ((rc = ef_stats_get(ctx, &m->company, &st))) return rc;
    EF_ASSERT(st.active > 0);
    st.active--;
    if ((rc = ef_stats_put(ctx, &m->company, &st))) return rc;
    xk[0] = 'x';
    ef_put_u64be(xk + 1, m->req.expiry);
    ef_put_u64be(xk + 9, m->id);
    if ((rc = ef_ctx_del(ctx, xk, sizeof xk))) return rc;
    m->state = state;
    m->ended = ef_ctx_height(ctx);
    return ef_match_put(ctx, m);
}

/* Expires up to max matches whose expiry height has been reached, oldest first. */
static int ef_mkt_expire_due(ef_ctx *ctx, const ef_mkt_params *p, size_t max)
{
    struct ef_mkt_due d = {.height = ef_ctx_height(ctx), .max = max};
    int rc = ef_ctx_scan(ctx, "x", 1, ef_mkt_due_fn, &d);
    if (rc) return rc;
    for (size_t i = 0; i < d.n; i++) {
        ef_mkt_match m;
        if ((rc = ef_match_get(ctx, d.ids[i], &m))) return rc == EF_ENOTFOUND ? EF_EDB : rc;
        if ((rc = ef_mkt_release(ctx, p, &m, EF_MKT_EXPIRED))) return rc;
        json_t *ev = json_pack("{s:I, s:I, s:o, s:I}", "match", (json_int_t)m.id, "en", (json_int_t)m.en,
                               "device", ef_pub_json(&m.device), "expiry", (json_int_t)m.req.expiry);
        if ((rc = ef_mkt_emit(ctx, "match_expired", ev))) return rc;
    }
    return 0;
}

/* Every method starts here: params, then due expiries. */
static int ef_mkt_begin(ef_ctx *ctx, ef_mkt_params *p)
{
    int rc = ef_mkt_params_get(ctx, p);
    if (rc) return rc;
    return ef_mkt_expire_due(ctx, p, EF_MKT_EXPIRE_BATCH);
}

/* --- methods --- */

static json_t *ef_en_json(const ef_mkt_en *e, const ef_mkt_params *p);

static int ef_mkt_m_register(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"x", "y", "cpu_milli", "mem_mb", "slots", "services", "price",
                                    "endpoint", NULL};
    ef_mkt_params p;
    ef_mkt_en e;
    int present;
    memset(&e, 0, sizeof e);
    if (ef_args_only(args, f) || ef_en_fields(args, &e, true, &present)) return EF_EARGS;
    int rc = ef_mkt_begin(ctx, &p);
    if (rc) return rc;
    if ((rc = ef_mkt_company(ctx))) return rc;
    if ((rc = ef_mkt_next_id(ctx, "N", &e.id))) return rc;
    e.company = *ef_ctx_sender(ctx);
    e.active = 1;
    e.registered = e.updated = ef_ctx_height(ctx);
    if ((rc = ef_en_save(ctx, &p, NULL, &e))) return rc;
    uint8_t ok[1 + EF_PUB_SIZE + 8];
    ok[0] = 'o';
    memcpy(ok + 1, e.company.b, EF_PUB_SIZE);
    ef_put_u64be(ok + 1 + EF_PUB_SIZE, e.id);
    if ((rc = ef_ctx_put(ctx, ok, sizeof ok, "", 0))) return rc;
    return ef_mkt_emit(ctx, "en_registered", ef_en_json(&e, &p));
}

/* The EN named by args "en", owned by the sender. */
static int ef_mkt_own_en(ef_ctx *ctx, const json_t *args, ef_mkt_en *e)
{
    uint64_t id;
    if (ef_args_u64(args, "en", &id)) return EF_EARGS;
    int rc = ef_mkt_company(ctx);
    if (rc) return rc;
    if ((rc = ef_en_get(ctx, id, e))) return rc;
    if (memcmp(e->company.b, ef_ctx_sender(ctx)->b, EF_PUB_SIZE)) return EF_EPERM;
    return 0;
}

static int ef_mkt_m_update(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"en", "x", "y", "cpu_milli", "mem_mb", "slots", "services", "price",
                                    "endpoint", NULL};
    ef_mkt_params p;
    ef_mkt_en e, old;
    int present;
    uint64_t id;
    if (ef_args_only(args, f) || ef_args_u64(args, "en", &id)) return EF_EARGS;
    memset(&e, 0, sizeof e);
    if (ef_en_fields(args, &e, false, &present) || present == 0) return EF_EARGS;
    int rc = ef_mkt_begin(ctx, &p);
    if (rc) return rc;
    if ((rc = ef_mkt_own_en(ctx, args, &old))) return rc;
    if (!old.active) return EF_ESTATE;
    e = old;
    if (ef_en_fields(args, &e, false, &present)) return EF_EARGS;
    if (e.cpu < e.cpu_used || e.mem < e.mem_used || e.slots < e.slots_used) return EF_ESTATE;
    e.updated = ef_ctx_height(ctx);
    if ((rc = ef_en_save(ctx, &p, &old, &e))) return rc;
    return ef_mkt_emit(ctx, "en_updated", ef_en_json(&e, &p));
}

static int ef_mkt_m_retire(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"en", NULL};
    ef_mkt_params p;
    ef_mkt_en e, old;
    uint64_t id;
    if (ef_args_only(args, f) || ef_args_u64(args, "en", &id)) return EF_EARGS;
    int rc = ef_mkt_begin(ctx, &p);
    if (rc) return rc;
    if ((rc = ef_mkt_own_en(ctx, args, &old))) return rc;
    if (!old.active) return EF_ESTATE;
    e = old;
    e.active = 0;
    e.updated = ef_ctx_height(ctx);
    if ((rc = ef_en_save(ctx, &p, &old, &e))) return rc;
    return ef_mkt_emit(ctx, "en_retired", json_pack("{s:I, s:o, s:I}", "en", (json_int_t)e.id, "company",
                                                    ef_pub_json(&e.company), "slots_used",
                                                    (json_int_t)e.slots_used));
}

/* The search: state of one match computation. */
struct ef_mkt_search {
    ef_ctx *ctx;
    const ef_mkt_req *req;
    uint64_t max_d2;
    bool found;
    ef_mkt_en best;
    uint64_t best_d2;
    uint32_t scanned, eligible;
    uint64_t ids[EF_MKT_CELL_LIMIT];
    size_t nids;
    int err;
};

static bool ef_en_offers(const ef_mkt_en *e, const char *service)
{
    for (int i = 0; i < e->nserv; i++)
        if (!strcmp(e->serv[i], service)) return true;
    return false;
}

static int ef_mkt_cell_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_mkt_search *s = arg;
    (void)val;
    (void)val_len;
    if (key_len != 17 || s->nids == EF_MKT_CELL_LIMIT) return EF_EDB;
    s->ids[s->nids++] = ef_get_u64be(key + 9);
    return 0;
}

/* Visits the ENs of cell (cx, cy). */
static int ef_mkt_visit(struct ef_mkt_search *s, uint32_t cx, uint32_t cy)
{
    uint8_t pre[9];
    ef_cell_key(pre, 'g', cx, cy);
    s->nids = 0;
    int rc = ef_ctx_scan(s->ctx, pre, sizeof pre, ef_mkt_cell_fn, s);
    if (rc) return rc;
    const ef_mkt_req *q = s->req;
    for (size_t i = 0; i < s->nids; i++) {
        ef_mkt_en e;
        if ((rc = ef_en_get(s->ctx, s->ids[i], &e))) return rc == EF_ENOTFOUND ? EF_EDB : rc;
        s->scanned++;
        if (!e.active || e.price > q->max_price || !ef_en_offers(&e, q->service) ||
            e.cpu - e.cpu_used < q->cpu_milli || e.mem - e.mem_used < q->mem_mb ||
            e.slots - e.slots_used < q->slots)
            continue;
        uint64_t d2 = ef_mkt_dist2(q->x, q->y, e.x, e.y);
        if (d2 > s->max_d2) continue;
        s->eligible++;
        if (!s->found || d2 < s->best_d2 || (d2 == s->best_d2 && (e.price < s->best.price ||
                                                                  (e.price == s->best.price && e.id < s->best.id)))) {
            s->found = true;
            s->best = e;
            s->best_d2 = d2;
        }
    }
    return 0;
}

static int ef_mkt_m_match(ef_ctx *ctx, const json_t *args)
{
    ef_mkt_params p;
    ef_mkt_req q;
    ef_role role;
    if (ef_mkt_req_parse(args, &q)) return EF_EARGS;
    int rc = ef_mkt_begin(ctx, &p);
    if (rc) return rc;
    if ((rc = ef_registry_role(ctx, ef_ctx_sender(ctx), &role, NULL))) return rc;
    if (role == EF_ROLE_NONE) return EF_EPERM;
    uint64_t h = ef_ctx_height(ctx);
    if (q.expiry <= h || q.expiry - h > p.ttl_max) return EF_EINVAL;
    uint64_t rings = ef_mkt_rings(q.max_dist, p.cell_m);
    if (rings > p.ring_max) return EF_EINVAL;

    struct ef_mkt_search *s = calloc(1, sizeof *s);
    if (!s) return EF_ENOMEM;
    s->ctx = ctx;
    s->req = &q;
    s->max_d2 = q.max_dist * q.max_dist;
    int64_t cx = q.x / p.cell_m, cy = q.y / p.cell_m;
    int64_t gmax = EF_MKT_COORD_MAX / p.cell_m;
    uint32_t r, cells = 0;
    for (r = 0; r <= rings; r++) {
        int64_t ir = (int64_t)r;
        for (int64_t i = cx - ir; i <= cx + ir && rc == 0; i++) {
            if (i < 0 || i > gmax) continue;
            bool edge = i == cx - ir || i == cx + ir;
            for (int64_t j = cy - ir; j <= cy + ir; j += edge ? 1 : (ir ? 2 * ir : 1)) {
                if (j >= 0 && j <= gmax) {
                    cells++;
                    if ((rc = ef_mkt_visit(s, (uint32_t)i, (uint32_t)j))) break;
                }
            }
        }
        if (rc) goto out;
        uint64_t reach = (uint64_t)r * p.cell_m;
        if (s->found && (reach >= EF_MKT_COORD_MAX || s->best_d2 <= reach * reach)) break;
    }
    if (r > rings) r = (uint32_t)rings;
    if (!s->found) {
        rc = EF_ENOTFOUND;
        goto out;
    }
    if (q.en && q.en != s->best.id) {   /* the caller (a proxy?) wanted another EN */
        rc = EF_EPERM;
        goto out;
    }

    ef_mkt_en old = s->best, e = s->best;
    e.cpu_used += q.cpu_milli;
    e.mem_used += q.mem_mb;
    e.slots_used += q.slots;
    e.matches++;
    if ((rc = ef_en_save(ctx, &p, &old, &e))) goto out;
    ef_mkt_stats st;
    if ((rc = ef_stats_get(ctx, &e.company, &st))) goto out;
    st.won++;
    st.active++;
    if ((rc = ef_stats_put(ctx, &e.company, &st))) goto out;

    ef_mkt_match m;
    memset(&m, 0, sizeof m);
    if ((rc = ef_mkt_next_id(ctx, "M", &m.id))) goto out;
    m.device = *ef_ctx_sender(ctx);
    m.req = q;
    m.en = e.id;
    m.company = e.company;
    m.en_x = e.x;
    m.en_y = e.y;
    m.price = e.price;
    m.dist2 = s->best_d2;
    m.scanned = s->scanned;
    m.eligible = s->eligible;
    m.rings = r;
    m.cells = cells;
    m.height = h;
    m.state = EF_MKT_ACTIVE;
    if ((rc = ef_match_put(ctx, &m))) goto out;
    uint8_t dk[1 + EF_PUB_SIZE + 8], xk[17];
    dk[0] = 'd';
    memcpy(dk + 1, m.device.b, EF_PUB_SIZE);
    ef_put_u64be(dk + 1 + EF_PUB_SIZE, m.id);
    xk[0] = 'x';
    ef_put_u64be(xk + 1, q.expiry);
    ef_put_u64be(xk + 9, m.id);
    if ((rc = ef_ctx_put(ctx, dk, sizeof dk, "", 0)) || (rc = ef_ctx_put(ctx, xk, sizeof xk, "", 0))) goto out;
    rc = ef_mkt_emit(ctx, "matched",
                     json_pack("{s:I, s:o, s:I, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "match",
                               (json_int_t)m.id, "device", ef_pub_json(&m.device), "en", (json_int_t)m.en,
                               "company", ef_pub_json(&m.company), "service", q.service, "dist2",
                               (json_int_t)m.dist2, "price", (json_int_t)m.price, "scanned",
                               (json_int_t)m.scanned, "eligible", (json_int_t)m.eligible, "expiry",
                               (json_int_t)q.expiry, "height", (json_int_t)h, "endpoint", e.endpoint));
out:
    free(s);
    return rc;
}

static int ef_mkt_m_end(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"match", NULL};
    ef_mkt_params p;
    ef_mkt_match m;
    uint64_t id;
    if (ef_args_only(args, f) || ef_args_u64(args, "match", &id)) return EF_EARGS;
    int rc = ef_mkt_begin(ctx, &p);
    if (rc) return rc;
    if ((rc = ef_match_get(ctx, id, &m))) return rc;
    const ef_pub *who = ef_ctx_sender(ctx);
    if (memcmp(who->b, m.device.b, EF_PUB_SIZE) && memcmp(who->b, m.company.b, EF_PUB_SIZE)) return EF_EPERM;
    if (m.state != EF_MKT_ACTIVE) return EF_ESTATE;
    if ((rc = ef_mkt_release(ctx, &p, &m, EF_MKT_ENDED))) return rc;
    return ef_mkt_emit(ctx, "match_ended", json_pack("{s:I, s:I, s:o}", "match", (json_int_t)m.id, "en",
                                                     (json_int_t)m.en, "by", ef_pub_json(who)));
}

struct ef_mkt_sess {
    uint64_t id;
    ef_pub *device, *company;
    bool *active;
};

static int ef_mkt_session_fn(ef_ctx *ctx, void *arg)
{
    struct ef_mkt_sess *a = arg;
    ef_mkt_match m;
    int rc = ef_match_get(ctx, a->id, &m);
    if (rc) return rc;
    *a->device = m.device;
    *a->company = m.company;
    *a->active = m.state == EF_MKT_ACTIVE;
    return 0;
}

int ef_market_session(ef_ctx *ctx, uint64_t id, ef_pub *device, ef_pub *company, bool *active)
{
    struct ef_mkt_sess a = {id, device, company, active};
    return ef_ctx_call_as(ctx, EF_MKT_NAME, ef_mkt_session_fn, &a);
}

static int ef_mkt_session_end_fn(ef_ctx *ctx, void *arg)
{
    uint64_t id = *(uint64_t *)arg;
    ef_mkt_params p;
    ef_mkt_match m;
    int rc = ef_mkt_params_get(ctx, &p);
    if (rc) return rc;
    if ((rc = ef_match_get(ctx, id, &m))) return rc;
    if (m.state != EF_MKT_ACTIVE) return 0;
    if ((rc = ef_mkt_release(ctx, &p, &m, EF_MKT_ENDED))) return rc;
    return ef_mkt_emit(ctx, "match_ended", json_pack("{s:I, s:I, s:o}", "match", (json_int_t)m.id, "en",
                                                     (json_int_t)m.en, "by", ef_pub_json(ef_ctx_sender(ctx))));
}

int ef_market_session_end(ef_ctx *ctx, uint64_t id)
{
    return ef_ctx_call_as(ctx, EF_MKT_NAME, ef_mkt_session_end_fn, &id);
}

static int ef_mkt_m_expire(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {NULL};
    ef_mkt_params p;
    if (ef_args_only(args, f)) return EF_EARGS;
    int rc = ef_mkt_params_get(ctx, &p);
    if (rc) return rc;
    return ef_mkt_expire_due(ctx, &p, EF_MKT_EXPIRE_MAX);
}

static const ef_method ef_market_methods[] = {
    {"register", ef_mkt_m_register},
    {"update", ef_mkt_m_update},
    {"retire", ef_mkt_m_retire},
    {"match", ef_mkt_m_match},
    {"end", ef_mkt_m_end},
    {"expire", ef_mkt_m_expire},
};

static int ef_market_genesis(ef_ctx *ctx, const json_t *params)
{
    static const char *const f[] = {"cell_m", "ring_max", "cell_max", "ttl_max", NULL};
    ef_mkt_params p = {EF_MKT_CELL_DEFAULT, EF_MKT_RING_DEFAULT, EF_MKT_CELL_MAX_DEFAULT, EF_MKT_TTL_DEFAULT};
    if (!params) return 0;
    if (ef_args_only(params, f)) return EF_ECONFIG;
    uint64_t *dst[] = {&p.cell_m, &p.ring_max, &p.cell_max, &p.ttl_max};
    for (int i = 0; i < 4; i++)
        if (json_object_get(params, f[i]) && (ef_args_u64(params, f[i], dst[i]) || *dst[i] == 0))
            return EF_ECONFIG;
    if (p.ring_max > EF_MKT_RING_LIMIT || p.cell_max > EF_MKT_CELL_LIMIT || p.cell_m > EF_MKT_COORD_MAX)
        return EF_ECONFIG;
    uint8_t v[32];
    ef_put_u64le(v, p.cell_m);
    ef_put_u64le(v + 8, p.ring_max);
    ef_put_u64le(v + 16, p.cell_max);
    ef_put_u64le(v + 24, p.ttl_max);
    return ef_ctx_put(ctx, "P", 1, v, sizeof v);
}

/* --- queries --- */

static json_t *ef_en_json(const ef_mkt_en *e, const ef_mkt_params *p)
{
    json_t *sv = json_array();
    for (int i = 0; sv && i < e->nserv; i++) json_array_append_new(sv, json_string(e->serv[i]));
    json_t *j = json_pack("{s:I, s:o, s:I, s:I, s:[I,I], s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:s, "
                          "s:s, s:I, s:I, s:I}",
                          "en", (json_int_t)e->id, "company", ef_pub_json(&e->company), "x", (json_int_t)e->x,
                          "y", (json_int_t)e->y, "cell", (json_int_t)(e->x / p->cell_m),
                          (json_int_t)(e->y / p->cell_m), "cpu_milli", (json_int_t)e->cpu, "mem_mb",
                          (json_int_t)e->mem, "slots", (json_int_t)e->slots, "cpu_used",
                          (json_int_t)e->cpu_used, "mem_used", (json_int_t)e->mem_used, "slots_used",
                          (json_int_t)e->slots_used, "price", (json_int_t)e->price, "services", sv,
                          "endpoint", e->endpoint, "state", e->active ? "active" : "retired", "registered",
                          (json_int_t)e->registered, "updated", (json_int_t)e->updated, "matches",
                          (json_int_t)e->matches);
    return j;
}

static json_t *ef_match_json(const ef_mkt_match *m)
{
    json_t *req = json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "x", (json_int_t)m->req.x, "y",
                            (json_int_t)m->req.y, "service", m->req.service, "cpu_milli",
                            (json_int_t)m->req.cpu_milli, "mem_mb", (json_int_t)m->req.mem_mb, "slots",
                            (json_int_t)m->req.slots, "max_dist", (json_int_t)m->req.max_dist, "max_price",
                            (json_int_t)m->req.max_price, "expiry", (json_int_t)m->req.expiry);
    json_t *j = json_pack("{s:I, s:o, s:o, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
                          "match", (json_int_t)m->id, "device", ef_pub_json(&m->device), "request", req, "en",
                          (json_int_t)m->en, "company", ef_pub_json(&m->company), "en_x", (json_int_t)m->en_x,
                          "en_y", (json_int_t)m->en_y, "price", (json_int_t)m->price, "dist2",
                          (json_int_t)m->dist2, "scanned", (json_int_t)m->scanned, "eligible",
                          (json_int_t)m->eligible, "rings", (json_int_t)m->rings, "cells",
                          (json_int_t)m->cells, "height", (json_int_t)m->height, "state",
                          ef_mkt_state_names[m->state]);
    if (j && m->state != EF_MKT_ACTIVE) json_object_set_new(j, "ended", json_integer((json_int_t)m->ended));
    return j;
}

static json_t *ef_stats_json(const ef_pub *company, const ef_mkt_stats *st)
{
    uint64_t u = st->slots ? st->slots_used * 1000 / st->slots : 0;
    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "company", ef_pub_json(company),
                     "ens", (json_int_t)st->ens, "matches_won", (json_int_t)st->won, "matches_active",
                     (json_int_t)st->active, "cpu_milli", (json_int_t)st->cpu, "cpu_used",
                     (json_int_t)st->cpu_used, "mem_mb", (json_int_t)st->mem, "mem_used",
                     (json_int_t)st->mem_used, "slots", (json_int_t)st->slots, "slots_used",
                     (json_int_t)st->slots_used, "utilisation_permille", (json_int_t)u);
}

/* Collects the trailing u64 ids of keys under a prefix (at most EF_MKT_QUERY_MAX;
 * newest = keep the last ones). */
struct ef_mkt_ids {
    uint64_t *ids;
    size_t n, total;
    bool newest;
};

static int ef_mkt_ids_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_mkt_ids *c = arg;
    (void)val;
    (void)val_len;
    if (key_len < 9) return EF_EDB;
    uint64_t id = ef_get_u64be(key + key_len - 8);
    c->total++;
    if (c->n < EF_MKT_QUERY_MAX) c->ids[c->n++] = id;
    else if (c->newest) {
        memmove(c->ids, c->ids + 1, (EF_MKT_QUERY_MAX - 1) * sizeof *c->ids);
        c->ids[EF_MKT_QUERY_MAX - 1] = id;
    } else return 1;
    return 0;
}

/* A list query: ids of the keys under prefix, each turned into a record. */
static int ef_mkt_list(ef_ctx *ctx, const ef_mkt_params *p, const uint8_t *pre, size_t pre_len, bool matches,
                       bool newest, json_t **out)
{
    struct ef_mkt_ids c = {calloc(EF_MKT_QUERY_MAX, sizeof(uint64_t)), 0, 0, newest};
    if (!c.ids) return EF_ENOMEM;
    int rc = ef_ctx_scan(ctx, pre, pre_len, ef_mkt_ids_fn, &c);
    json_t *arr = json_array();
    for (size_t k = 0; rc == 0 && arr && k < c.n; k++) {
        size_t i = newest ? c.n - 1 - k : k;
        if (matches) {
            ef_mkt_match m;
            if ((rc = ef_match_get(ctx, c.ids[i], &m)) == 0) json_array_append_new(arr, ef_match_json(&m));
        } else {
            ef_mkt_en e;
            if ((rc = ef_en_get(ctx, c.ids[i], &e)) == 0) json_array_append_new(arr, ef_en_json(&e, p));
        }
    }
    free(c.ids);
    if (rc || !arr) {
        json_decref(arr);
        return rc ? rc : EF_ENOMEM;
    }
    *out = arr;
    return 0;
}

static int ef_mkt_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s < '0' || *s > '9') return EF_EINVAL;
    *out = strtoull(s, &end, 10);
    return *end ? EF_EINVAL : 0;
}

struct ef_mkt_all_stats { json_t *arr; };

static int ef_mkt_stats_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_mkt_all_stats *a = arg;
    ef_mkt_stats st;
    ef_pub pub;
    if (key_len != 1 + EF_PUB_SIZE || ef_stats_decode(&st, val, val_len)) return EF_EDB;
    memcpy(pub.b, key + 1, EF_PUB_SIZE);
    json_array_append_new(a->arr, ef_stats_json(&pub, &st));
    return 0;
}

static int ef_market_query(ef_ctx *ctx, const char *path, json_t **out)
{
    ef_mkt_params p;
    uint64_t id;
    *out = NULL;
    int rc = ef_mkt_params_get(ctx, &p);
    if (rc) return rc;
    if (!strcmp(path, "params")) {
        *out = json_pack("{s:I, s:I, s:I, s:I, s:I}", "cell_m", (json_int_t)p.cell_m, "ring_max",
                         (json_int_t)p.ring_max, "cell_max", (json_int_t)p.cell_max, "ttl_max",
                         (json_int_t)p.ttl_max, "coord_max", (json_int_t)EF_MKT_COORD_MAX);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strncmp(path, "en/", 3)) {
        ef_mkt_en e;
        if (ef_mkt_parse_u64(path + 3, &id)) return EF_EINVAL;
        if ((rc = ef_en_get(ctx, id, &e))) return rc;
        *out = ef_en_json(&e, &p);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strcmp(path, "ens")) {
        /* active ENs: every cell index entry, by EN id */
        json_t *all;
        if ((rc = ef_mkt_list(ctx, &p, (const uint8_t *)"e", 1, false, false, &all))) return rc;
        *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(all, i, v) {
            if (!strcmp(json_string_value(json_object_get(v, "state")), "active"))
                json_array_append(*out, v);
        }
        json_decref(all);
        return 0;
    }
    if (!strncmp(path, "company/", 8)) {
        uint8_t pre[1 + EF_PUB_SIZE];
        pre[0] = 'o';
        if (ef_unhex(pre + 1, EF_PUB_SIZE, path + 8)) return EF_EINVAL;
        return ef_mkt_list(ctx, &p, pre, sizeof pre, false, false, out);
    }
    if (!strncmp(path, "cell/", 5)) {
        uint64_t cx, cy;
        char buf[48];
        snprintf(buf, sizeof buf, "%s", path + 5);
        char *slash = strchr(buf, '/');
        if (!slash) return EF_EINVAL;
        *slash = 0;
        if (ef_mkt_parse_u64(buf, &cx) || ef_mkt_parse_u64(slash + 1, &cy) || cx > UINT32_MAX || cy > UINT32_MAX)
            return EF_EINVAL;
        uint8_t pre[9];
        ef_cell_key(pre, 'g', (uint32_t)cx, (uint32_t)cy);
        return ef_mkt_list(ctx, &p, pre, sizeof pre, false, false, out);
    }
    if (!strncmp(path, "match/", 6)) {
        ef_mkt_match m;
        if (ef_mkt_parse_u64(path + 6, &id)) return EF_EINVAL;
        if ((rc = ef_match_get(ctx, id, &m))) return rc;
        *out = ef_match_json(&m);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strcmp(path, "matches")) return ef_mkt_list(ctx, &p, (const uint8_t *)"m", 1, true, true, out);
    if (!strncmp(path, "device/", 7)) {
        uint8_t pre[1 + EF_PUB_SIZE];
        pre[0] = 'd';
        if (ef_unhex(pre + 1, EF_PUB_SIZE, path + 7)) return EF_EINVAL;
        return ef_mkt_list(ctx, &p, pre, sizeof pre, true, true, out);
    }
    if (!strncmp(path, "stats/", 6)) {
        ef_pub pub;
        ef_mkt_stats st;
        if (ef_unhex(pub.b, EF_PUB_SIZE, path + 6)) return EF_EINVAL;
        if ((rc = ef_stats_get(ctx, &pub, &st))) return rc;
        *out = ef_stats_json(&pub, &st);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strcmp(path, "stats")) {
        struct ef_mkt_all_stats a = {json_array()};
        if (!a.arr) return EF_ENOMEM;
        if ((rc = ef_ctx_scan(ctx, "s", 1, ef_mkt_stats_fn, &a))) {
            json_decref(a.arr);
            return rc;
        }
        *out = a.arr;
        return 0;
    }
    return EF_ENOTFOUND;
}

const ef_contract ef_market_contract = {
    .name = EF_MKT_NAME,
    .methods = ef_market_methods,
    .methods_len = EF_ARRAY_LEN(ef_market_methods),
    .query = ef_market_query,
    .genesis = ef_market_genesis,
};
