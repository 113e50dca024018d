/* test_market.c: the market contract through the real store and executor:
 * randomized matching against a brute-force reference (same EN every time, with
 * ends, updates, retirements and lazy expiries interleaved), capacity never
 * oversubscribed, expiry releasing capacity, every misbehaviour rejected with
 * its code and nothing changed, the collusion case, and match time with many ENs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contracts/ef_market.h"
#include "ef_test_mkt.h"

static const char *const services[] = {"hash", "resize", "infer"};

/* --- the reference model: every EN and match, updated in transaction order --- */

typedef struct ren {
    uint64_t id;
    int company;
    uint32_t x, y;
    uint64_t cpu, mem, slots, cu, mu, su, price;
    unsigned serv;   /* bit i: services[i] */
    bool active;
} ren;

typedef struct rmatch {
    uint64_t id, en, cpu, mem, slots, expiry;
    int device;
    bool active;
} rmatch;

#define R_EN_MAX 4096
#define R_MATCH_MAX 20000

typedef struct refm {
    ren en[R_EN_MAX + 1];       /* by id */
    size_t nen;
    rmatch m[R_MATCH_MAX + 1];  /* by id */
    size_t nm;
    uint64_t undo[EF_MKT_EXPIRE_MAX];
    size_t nundo;
} refm;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static uint64_t rnd_in(uint64_t lo, uint64_t hi) { return lo + rnd() % (hi - lo + 1); }

/* Expires up to limit due matches at height h, oldest (expiry, id) first,
 * remembering them so that a failing transaction can put them back. */
static void ref_expire(refm *r, uint64_t h, size_t limit)
{
    r->nundo = 0;
    for (size_t k = 0; k < limit; k++) {
        rmatch *best = NULL;
        for (size_t i = 1; i <= r->nm; i++) {
            rmatch *m = &r->m[i];
            if (!m->active || m->expiry > h) continue;
            if (!best || m->expiry < best->expiry) best = m;   /* ids ascend: first wins ties */
        }
        if (!best) break;
        best->active = false;
        ren *e = &r->en[best->en];
        e->cu -= best->cpu;
        e->mu -= best->mem;
        e->su -= best->slots;
        r->undo[r->nundo++] = best->id;
    }
}

static void ref_unexpire(refm *r)
{
    for (size_t i = 0; i < r->nundo; i++) {
        rmatch *m = &r->m[r->undo[i]];
        m->active = true;
        r->en[m->en].cu += m->cpu;
        r->en[m->en].mu += m->mem;
        r->en[m->en].su += m->slots;
    }
    r->nundo = 0;
}

static uint64_t d2(uint32_t ax, uint32_t ay, uint32_t bx, uint32_t by)
{
    int64_t dx = (int64_t)ax - bx, dy = (int64_t)ay - by;
    return (uint64_t)(dx * dx + dy * dy);
}

/* Brute force over every EN: the rule of ef_market.h. Returns the EN id or 0. */
static uint64_t ref_pick(const refm *r, uint32_t x, uint32_t y, unsigned serv, uint64_t cpu, uint64_t mem,
                         uint64_t slots, uint64_t max_dist, uint64_t max_price)
{
    uint64_t best = 0, bd = 0;
    for (size_t i = 1; i <= r->nen; i++) {
        const ren *e = &r->en[i];
        if (!e->active || !(e->serv & serv) || e->price > max_price || e->cpu - e->cu < cpu ||
            e->mem - e->mu < mem || e->slots - e->su < slots)
            continue;
        uint64_t d = d2(x, y, e->x, e->y);
        if (d > max_dist * max_dist) continue;
        if (!best || d < bd || (d == bd && (e->price < r->en[best].price ||
                                            (e->price == r->en[best].price && e->id < best)))) {
            best = e->id;
            bd = d;
        }
    }
    return best;
}

static void services_json(char *out, size_t n, unsigned mask)
{
    size_t off = (size_t)snprintf(out, n, "[");
    bool first = true;
    for (int i = 0; i < 3; i++)
        if (mask & (1u << i)) {
            off += (size_t)snprintf(out + off, n - off, "%s\"%s\"", first ? "" : ",", services[i]);
            first = false;
        }
    snprintf(out + off, n - off, "]");
}

/* Queues the registration of a random EN of company co (the model follows on success). */
static void add_register(mchain *c, refm *r, int co, uint32_t grid, uint32_t step)
{
    ren e = {0};
    e.id = ++r->nen;
    e.company = co;
    e.x = (uint32_t)rnd_in(0, grid) * step;
    e.y = (uint32_t)rnd_in(0, grid) * step;
    e.cpu = rnd_in(1, 8) * 1000;
    e.mem = rnd_in(1, 8) * 1024;
    e.slots = rnd_in(1, 4);
    e.price = rnd_in(1, 10);
    e.serv = (unsigned)rnd_in(1, 7);
    e.active = true;
    r->en[e.id] = e;
    char sv[64];
    services_json(sv, sizeof sv, e.serv);
    m_add(c, co, "market", "register",
          "{\"x\":%u,\"y\":%u,\"cpu_milli\":%llu,\"mem_mb\":%llu,\"slots\":%llu,\"services\":%s,"
          "\"price\":%llu,\"endpoint\":\"http://10.0.0.%llu:9000\"}",
          e.x, e.y, (unsigned long long)e.cpu, (unsigned long long)e.mem, (unsigned long long)e.slots, sv,
          (unsigned long long)e.price, (unsigned long long)(e.id % 250));
}

/* --- randomized matching against the reference --- */

typedef struct expect {
    int code;
    uint64_t en;   /* for a match */
    bool is_match;
} expect;

static void test_market_random_vs_reference(void **state)
{
    (void)state;
    const size_t n_en = 3000, rounds = 75, per_round = 40;
    const uint32_t grid = 160, step = 250;   /* 40 km square, coarse lattice: many distance ties */
    refm *r = calloc(1, sizeof *r);
    mchain *c = calloc(1, sizeof *c);
    assert_non_null(r);
    assert_non_null(c);
    rng_state = 0x9e3779b97f4a7c15ull;
    m_open(c, "{\"market\":{\"cell_m\":1000,\"ring_max\":16,\"cell_max\":256}}");
    for (size_t i = 0; i < n_en; i++) {
        add_register(c, r, (int)(i % M_NCOMP), grid, step);
        if (c->n == 1000 || i + 1 == n_en) {
            m_commit(c);
            for (size_t k = 0; k < 1000 && c->events[k]; k++) assert_int_equal(c->code[k], 0);
        }
    }
    assert_int_equal(m_qint(c, "market", "ens", "stats/%s", c->hex[0]), (json_int_t)(n_en / 3));

    expect *ex = calloc(per_round, sizeof *ex);
    size_t matches_ok = 0, matches_none = 0, ends = 0, updates = 0, retires = 0;
    uint64_t scanned_sum = 0;
    for (size_t round = 0; round < rounds; round++) {
        uint64_t h = m_height(c) + 1;
        for (size_t k = 0; k < per_round; k++) {
            uint64_t op = rnd() % 100;
            size_t q = c->n;   /* the entry this op queues */
            ex[q] = (expect){0};
            if (op < 70) {           /* match */
                int dev = (int)rnd_in(0, M_NDEV - 1);
                uint32_t x = (uint32_t)rnd_in(0, grid * step), y = (uint32_t)rnd_in(0, grid * step);
                unsigned s = 1u << rnd_in(0, 2);
                uint64_t cpu = rnd_in(0, 4) * 500, mem = rnd_in(0, 4) * 512, slots = rnd_in(1, 2);
                uint64_t maxd = rnd_in(1, 16) * 1000 - rnd_in(0, 1) * 333, maxp = rnd_in(3, 12);
                uint64_t expiry = h + rnd_in(1, 25);
                const char *sn = s == 1 ? services[0] : s == 2 ? services[1] : services[2];
                m_add(c, m_dev(dev), "market", "match",
                      "{\"x\":%u,\"y\":%u,\"service\":\"%s\",\"cpu_milli\":%llu,\"mem_mb\":%llu,\"slots\":%llu,"
                      "\"max_dist\":%llu,\"max_price\":%llu,\"expiry\":%llu}",
                      x, y, sn, (unsigned long long)cpu, (unsigned long long)mem, (unsigned long long)slots,
                      (unsigned long long)maxd, (unsigned long long)maxp, (unsigned long long)expiry);
                ref_expire(r, h, EF_MKT_EXPIRE_BATCH);
                uint64_t en = ref_pick(r, x, y, s, cpu, mem, slots, maxd, maxp);
                ex[q].is_match = true;
                ex[q].en = en;
                if (!en) {
                    ex[q].code = EF_ENOTFOUND;
                    ref_unexpire(r);
                } else {
                    rmatch *m = &r->m[++r->nm];
                    *m = (rmatch){r->nm, en, cpu, mem, slots, expiry, dev, true};
                    r->en[en].cu += cpu;
                    r->en[en].mu += mem;
                    r->en[en].su += slots;
                }
            } else if (op < 88) {    /* end a match, by its device or the EN's company */
                if (r->nm == 0) continue;
                rmatch *m = &r->m[rnd_in(1, r->nm)];
                bool by_company = rnd() % 2;
                int who = by_company ? r->en[m->en].company : m_dev(m->device);
                m_add(c, who, "market", "end", "{\"match\":%llu}", (unsigned long long)m->id);
                ref_expire(r, h, EF_MKT_EXPIRE_BATCH);
                if (!m->active) {
                    ex[q].code = EF_ESTATE;
                    ref_unexpire(r);
                } else {
                    m->active = false;
                    r->en[m->en].cu -= m->cpu;
                    r->en[m->en].mu -= m->mem;
                    r->en[m->en].su -= m->slots;
                    ends++;
                }
            } else if (op < 98) {    /* update an EN: move it, reprice it or resize it */
                ren *e = &r->en[rnd_in(1, r->nen)];
                uint64_t kind = rnd() % 3;
                ref_expire(r, h, EF_MKT_EXPIRE_BATCH);
                if (kind == 0) {
                    uint32_t x = (uint32_t)rnd_in(0, grid) * step, y = (uint32_t)rnd_in(0, grid) * step;
                    m_add(c, e->company, "market", "update", "{\"en\":%llu,\"x\":%u,\"y\":%u}",
                          (unsigned long long)e->id, x, y);
                    if (e->active) e->x = x, e->y = y;
                } else if (kind == 1) {
                    uint64_t p = rnd_in(1, 10);
                    m_add(c, e->company, "market", "update", "{\"en\":%llu,\"price\":%llu}",
                          (unsigned long long)e->id, (unsigned long long)p);
                    if (e->active) e->price = p;
                } else {
                    uint64_t sl = rnd_in(1, 4);
                    m_add(c, e->company, "market", "update", "{\"en\":%llu,\"slots\":%llu}",
                          (unsigned long long)e->id, (unsigned long long)sl);
                    if (e->active && sl < e->su) ex[q].code = EF_ESTATE;
                    else if (e->active) e->slots = sl;
                }
                if (!e->active) ex[q].code = EF_ESTATE;
                if (ex[q].code) ref_unexpire(r);
                else updates++;
            } else {                 /* retire */
                ren *e = &r->en[rnd_in(1, r->nen)];
                m_add(c, e->company, "market", "retire", "{\"en\":%llu}", (unsigned long long)e->id);
                ref_expire(r, h, EF_MKT_EXPIRE_BATCH);
                if (!e->active) {
                    ex[q].code = EF_ESTATE;
                    ref_unexpire(r);
                } else {
                    e->active = false;
                    retires++;
                }
            }
        }
        size_t queued = c->n;
        m_commit(c);
        for (size_t q = 0; q < queued; q++) {
            assert_int_equal(c->code[q], ex[q].code);
            if (ex[q].is_match && ex[q].en) {
                assert_int_equal(m_event_int(c, q, "matched", "en"), (json_int_t)ex[q].en);
                scanned_sum += (uint64_t)m_event_int(c, q, "matched", "scanned");
                matches_ok++;
            } else if (ex[q].is_match) {
                matches_none++;
            }
        }
    }
    /* capacity: the ledger's use of every EN is the model's, never above capacity */
    for (size_t i = 1; i <= r->nen; i++) {
        json_t *e = m_query(c, "market", "en/%zu", i);
        json_int_t su = json_integer_value(json_object_get(e, "slots_used"));
        json_int_t cu = json_integer_value(json_object_get(e, "cpu_used"));
        assert_int_equal(su, (json_int_t)r->en[i].su);
        assert_int_equal(cu, (json_int_t)r->en[i].cu);
        assert_true(su <= json_integer_value(json_object_get(e, "slots")));
        assert_true(cu <= json_integer_value(json_object_get(e, "cpu_milli")));
        assert_int_equal(json_integer_value(json_object_get(e, "x")), (json_int_t)r->en[i].x);
        json_decref(e);
    }
    /* per-company stats agree with the model */
    for (int co = 0; co < M_NCOMP; co++) {
        json_int_t active = 0, ens = 0;
        for (size_t i = 1; i <= r->nm; i++)
            if (r->m[i].active && r->en[r->m[i].en].company == co) active++;
        for (size_t i = 1; i <= r->nen; i++)
            if (r->en[i].active && r->en[i].company == co) ens++;
        assert_int_equal(m_qint(c, "market", "matches_active", "stats/%s", c->hex[co]), active);
        assert_int_equal(m_qint(c, "market", "ens", "stats/%s", c->hex[co]), ens);
    }
    fprintf(stderr, "random vs reference: %zu ENs, %zu matched, %zu none fit, %zu ends, %zu updates, "
                    "%zu retired; ENs scanned per match %.1f of %zu\n",
            n_en, matches_ok, matches_none, ends, updates, retires,
            matches_ok ? (double)scanned_sum / (double)matches_ok : 0.0, n_en);
    assert_true(matches_ok > 1000);
    assert_true(matches_none > 10);
    assert_true(scanned_sum < matches_ok * n_en / 10);   /* the index prunes */
    free(ex);
    m_close(c);
    free(c);
    free(r);
}

/* --- capacity, expiry, misbehaviour --- */

static mchain *one_en_chain(uint64_t slots)
{
    mchain *c = calloc(1, sizeof *c);
    assert_non_null(c);
    m_open(c, "{\"market\":{\"cell_m\":100,\"ring_max\":4}}");
    assert_int_equal(m_tx(c, 0, "market", "register",
                          "{\"x\":500,\"y\":500,\"cpu_milli\":1000,\"mem_mb\":1000,\"slots\":%llu,"
                          "\"services\":[\"hash\"],\"price\":5,\"endpoint\":\"http://a:1\"}",
                          (unsigned long long)slots), 0);
    return c;
}

#define REQ(x, expiry) "{\"x\":" #x ",\"y\":500,\"service\":\"hash\",\"cpu_milli\":100,\"mem_mb\":10,\"slots\":1," \
                       "\"max_dist\":300,\"max_price\":9,\"expiry\":%llu}", (unsigned long long)(expiry)

static void test_market_capacity_never_oversubscribed(void **state)
{
    (void)state;
    mchain *c = one_en_chain(3);
    uint64_t h = m_height(c) + 1;
    for (int d = 0; d < M_NDEV; d++) m_add(c, m_dev(d), "market", "match", REQ(520, h + 100));
    m_commit(c);
    int ok = 0, none = 0;
    for (int d = 0; d < M_NDEV; d++) {
        if (c->code[d] == 0) ok++;
        else if (c->code[d] == EF_ENOTFOUND) none++;
    }
    assert_int_equal(ok, 3);
    assert_int_equal(none, M_NDEV - 3);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 3);
    /* cpu is bounded too: a request for more cpu than is free finds nothing */
    assert_int_equal(m_tx(c, 0, "market", "update", "{\"en\":1,\"slots\":10}"), 0);
    assert_int_equal(m_tx(c, m_dev(0), "market", "match",
                          "{\"x\":500,\"y\":500,\"service\":\"hash\",\"cpu_milli\":701,\"mem_mb\":0,\"slots\":1,"
                          "\"max_dist\":10,\"max_price\":9,\"expiry\":%llu}", (unsigned long long)(h + 100)),
                     EF_ENOTFOUND);
    /* shrinking below what is in use is refused */
    assert_int_equal(m_tx(c, 0, "market", "update", "{\"en\":1,\"slots\":2}"), EF_ESTATE);
    /* ending a session frees its slot, once */
    assert_int_equal(m_tx(c, m_dev(0), "market", "end", "{\"match\":1}"), 0);
    assert_int_equal(m_tx(c, m_dev(0), "market", "end", "{\"match\":1}"), EF_ESTATE);
    assert_int_equal(m_tx(c, m_dev(5), "market", "end", "{\"match\":2}"), EF_EPERM);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 2);
    m_close(c);
    free(c);
}

static void test_market_expiry_releases(void **state)
{
    (void)state;
    mchain *c = one_en_chain(1);
    uint64_t h = m_height(c) + 1;
    assert_int_equal(m_tx(c, m_dev(0), "market", "match", REQ(510, h + 3)), 0);
    assert_int_equal(m_tx(c, m_dev(1), "market", "match", REQ(510, h + 50)), EF_ENOTFOUND);
    /* before the expiry height the slot stays taken */
    assert_int_equal(m_tx(c, m_dev(1), "market", "match", REQ(510, h + 50)), EF_ENOTFOUND);
    m_commit(c);   /* empty block: height h + 3 is reached by the next tx */
    json_t *m = m_query(c, "market", "match/1");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "active");
    json_decref(m);
    assert_int_equal(m_tx(c, m_dev(1), "market", "match", REQ(510, h + 50)), 0);
    json_t *d = m_event(c, 0, "match_expired");
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "match")), 1);
    json_decref(d);
    m = m_query(c, "market", "match/1");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "expired");
    json_decref(m);
    /* the expire method, by anyone, releases without another match */
    assert_int_equal(m_tx(c, m_dev(1), "market", "end", "{\"match\":2}"), 0);
    h = m_height(c) + 1;
    assert_int_equal(m_tx(c, m_dev(2), "market", "match", REQ(510, h + 1)), 0);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 1);
    assert_int_equal(m_tx(c, M_OUTSIDER, "market", "expire", "{}"), 0);
    assert_non_null(d = m_event(c, 0, "match_expired"));
    json_decref(d);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 0);
    assert_int_equal(m_qint(c, "market", "matches_active", "stats/%s", c->hex[0]), 0);
    assert_int_equal(m_qint(c, "market", "matches_won", "stats/%s", c->hex[0]), 3);
    m_close(c);
    free(c);
}

static void test_market_misbehaviour(void **state)
{
    (void)state;
    mchain *c = one_en_chain(2);
    uint64_t h = m_height(c) + 1;
    const char *en = "{\"x\":1,\"y\":1,\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,\"services\":[\"hash\"],"
                     "\"price\":1,\"endpoint\":\"http://b:1\"}";
    /* only companies register; only the owner updates or retires */
    assert_int_equal(m_tx(c, m_dev(0), "market", "register", "%s", en), EF_ENOTVAL);
    assert_int_equal(m_tx(c, M_OUTSIDER, "market", "register", "%s", en), EF_ENOTVAL);
    assert_int_equal(m_tx(c, 1, "market", "update", "{\"en\":1,\"price\":1}"), EF_EPERM);
    assert_int_equal(m_tx(c, m_dev(0), "market", "update", "{\"en\":1,\"price\":1}"), EF_ENOTVAL);
    assert_int_equal(m_tx(c, 1, "market", "retire", "{\"en\":1}"), EF_EPERM);
    assert_int_equal(m_tx(c, 0, "market", "update", "{\"en\":9,\"price\":1}"), EF_ENOTFOUND);
    assert_int_equal(m_tx(c, 0, "market", "update", "{\"en\":1}"), EF_EARGS);
    assert_int_equal(m_tx(c, 0, "market", "register", "{\"x\":1}"), EF_EARGS);
    assert_int_equal(m_tx(c, 0, "market", "register",
                          "{\"x\":1,\"y\":1,\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,\"services\":[\"Hash!\"],"
                          "\"price\":1,\"endpoint\":\"http://b:1\"}"), EF_EARGS);
    assert_int_equal(m_tx(c, 0, "market", "register",
                          "{\"x\":2147483648,\"y\":1,\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,\"services\":[\"a\"],"
                          "\"price\":1,\"endpoint\":\"e\"}"), EF_EARGS);
    assert_int_equal(m_tx(c, 0, "market", "register", "%s", "{\"x\":1,\"y\":1,\"cpu_milli\":1,\"mem_mb\":1,"
                          "\"slots\":1,\"services\":[\"a\"],\"price\":1,\"endpoint\":\"e\",\"extra\":1}"), EF_EARGS);
    /* match requests */
    assert_int_equal(m_tx(c, M_OUTSIDER, "market", "match", REQ(500, h + 10)), EF_EPERM);
    assert_int_equal(m_tx(c, m_dev(0), "market", "match", REQ(500, 1)), EF_EINVAL);          /* expired */
    assert_int_equal(m_tx(c, m_dev(0), "market", "match", REQ(500, h + 1000000)), EF_EINVAL);/* ttl */
    assert_int_equal(m_tx(c, m_dev(0), "market", "match",
                          "{\"x\":500,\"y\":500,\"service\":\"hash\",\"cpu_milli\":0,\"mem_mb\":0,\"slots\":1,"
                          "\"max_dist\":401,\"max_price\":9,\"expiry\":%llu}", (unsigned long long)(h + 50)),
                     EF_EINVAL);   /* 5 rings of 100 > ring_max 4 */
    assert_int_equal(m_tx(c, m_dev(0), "market", "match",
                          "{\"x\":500,\"y\":500,\"service\":\"hash\",\"cpu_milli\":0,\"mem_mb\":0,\"slots\":0,"
                          "\"max_dist\":4,\"max_price\":9,\"expiry\":%llu}", (unsigned long long)(h + 50)),
                     EF_EARGS);
    assert_int_equal(m_tx(c, m_dev(0), "market", "match", REQ(900, h + 50)), EF_ENOTFOUND);  /* too far */
    /* the collusion case: a proxy that recommends EN 2 over the rule's EN 1 */
    assert_int_equal(m_tx(c, 1, "market", "register",
                          "{\"x\":600,\"y\":500,\"cpu_milli\":1000,\"mem_mb\":1000,\"slots\":5,"
                          "\"services\":[\"hash\"],\"price\":1,\"endpoint\":\"http://b:1\"}"), 0);
    assert_int_equal(m_tx(c, m_dev(0), "market", "match",
                          "{\"x\":540,\"y\":500,\"service\":\"hash\",\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,"
                          "\"max_dist\":300,\"max_price\":9,\"expiry\":%llu,\"en\":2}",
                          (unsigned long long)(h + 50)), EF_EPERM);
    json_t *ms = m_query(c, "market", "matches");
    assert_int_equal(json_array_size(ms), 0);
    json_decref(ms);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/2"), 0);
    /* naming the rule's EN is fine, and the record has the audit fields */
    assert_int_equal(m_tx(c, m_dev(0), "market", "match",
                          "{\"x\":540,\"y\":500,\"service\":\"hash\",\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,"
                          "\"max_dist\":300,\"max_price\":9,\"expiry\":%llu,\"en\":1}",
                          (unsigned long long)(h + 50)), 0);
    json_t *m = m_query(c, "market", "match/1");
    assert_int_equal(json_integer_value(json_object_get(m, "en")), 1);
    assert_int_equal(json_integer_value(json_object_get(m, "dist2")), 40 * 40);
    assert_int_equal(json_integer_value(json_object_get(m, "eligible")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "request"), "x")), 540);
    json_decref(m);
    /* ties: same distance, lower price wins; same price, lower id */
    assert_int_equal(m_tx(c, m_dev(1), "market", "match",
                          "{\"x\":550,\"y\":500,\"service\":\"hash\",\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,"
                          "\"max_dist\":300,\"max_price\":9,\"expiry\":%llu}", (unsigned long long)(h + 50)), 0);
    assert_int_equal(m_event_int(c, 0, "matched", "en"), 2);
    assert_int_equal(m_tx(c, 1, "market", "update", "{\"en\":2,\"price\":5}"), 0);
    assert_int_equal(m_tx(c, m_dev(1), "market", "match",
                          "{\"x\":550,\"y\":500,\"service\":\"hash\",\"cpu_milli\":1,\"mem_mb\":1,\"slots\":1,"
                          "\"max_dist\":300,\"max_price\":9,\"expiry\":%llu}", (unsigned long long)(h + 50)), 0);
    assert_int_equal(m_event_int(c, 0, "matched", "en"), 1);
    /* queries */
    json_t *q = m_query(c, "market", "company/%s", c->hex[1]);
    assert_int_equal(json_array_size(q), 1);
    json_decref(q);
    q = m_query(c, "market", "cell/5/5");
    assert_int_equal(json_array_size(q), 1);
    json_decref(q);
    q = m_query(c, "market", "device/%s", c->hex[m_dev(1)]);
    assert_int_equal(json_array_size(q), 2);
    json_decref(q);
    q = m_query(c, "market", "stats");
    assert_int_equal(json_array_size(q), 2);
    json_decref(q);
    /* a retired EN leaves the index, keeps its sessions */
    assert_int_equal(m_tx(c, 0, "market", "retire", "{\"en\":1}"), 0);
    assert_int_equal(m_tx(c, 0, "market", "retire", "{\"en\":1}"), EF_ESTATE);
    q = m_query(c, "market", "cell/5/5");
    assert_int_equal(json_array_size(q), 0);
    json_decref(q);
    assert_int_equal(m_tx(c, m_dev(0), "market", "end", "{\"match\":1}"), 0);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 1);
    json_t *out = NULL;
    assert_int_equal(ef_store_query(c->s, "market", "en/x", &out), EF_EINVAL);
    assert_int_equal(ef_store_query(c->s, "market", "nothing", &out), EF_ENOTFOUND);
    m_close(c);
    free(c);
}

static void test_market_req_parse(void **state)
{
    (void)state;
    ef_mkt_req q;
    json_t *a = json_loads("{\"x\":1,\"y\":2,\"service\":\"s\",\"cpu_milli\":3,\"mem_mb\":4,\"slots\":1,"
                           "\"max_dist\":5,\"max_price\":6,\"expiry\":7}", 0, NULL);
    assert_int_equal(ef_mkt_req_parse(a, &q), 0);
    assert_int_equal(q.x, 1);
    assert_int_equal(q.expiry, 7);
    json_object_set_new(a, "en", json_integer(0));
    assert_int_equal(ef_mkt_req_parse(a, &q), EF_EARGS);
    json_object_set_new(a, "en", json_integer(3));
    assert_int_equal(ef_mkt_req_parse(a, &q), 0);
    assert_int_equal(q.en, 3);
    json_object_set_new(a, "x", json_real(1.5));
    assert_int_equal(ef_mkt_req_parse(a, &q), EF_EARGS);
    json_decref(a);
    assert_int_equal(ef_mkt_rings(0, 100), 0);
    assert_int_equal(ef_mkt_rings(100, 100), 1);
    assert_int_equal(ef_mkt_rings(101, 100), 2);
    assert_int_equal(ef_mkt_dist2(0, 0, EF_MKT_COORD_MAX, EF_MKT_COORD_MAX),
                     2 * (uint64_t)EF_MKT_COORD_MAX * EF_MKT_COORD_MAX);
}

/* Match time with many ENs: n ENs (EF_TEST_MARKET_ENS; 100,000 in an optimised
 * build, 20,000 otherwise) at ~4 per cell; one match per block, timed from
 * propose to commit. */
static void test_market_scale(void **state)
{
    (void)state;
#ifdef __OPTIMIZE__
    size_t n = 100000;
#else
    size_t n = 20000;
#endif
    const char *env = getenv("EF_TEST_MARKET_ENS");
    if (env) n = (size_t)strtoull(env, NULL, 10);
    mchain *c = calloc(1, sizeof *c);
    assert_non_null(c);
    m_open(c, "{\"market\":{\"cell_m\":1000,\"ring_max\":16,\"cell_max\":256}}");
    rng_state = 12345;
    uint64_t side = 1000;
    while (side * side / 1000000 * 4 < n) side += 1000;   /* metres: ~4 ENs per 1 km cell */
    double t0 = m_now_ms();
    for (size_t i = 0; i < n; i++) {
        m_add(c, (int)(i % M_NCOMP), "market", "register",
              "{\"x\":%llu,\"y\":%llu,\"cpu_milli\":4000,\"mem_mb\":4096,\"slots\":4,\"services\":[\"hash\"],"
              "\"price\":%llu,\"endpoint\":\"http://e\"}",
              (unsigned long long)rnd_in(0, side), (unsigned long long)rnd_in(0, side),
              (unsigned long long)rnd_in(1, 10));
        if (c->n == 1000 || i + 1 == n) m_commit(c);
    }
    double reg_ms = m_now_ms() - t0;
    enum { N_MATCH = 41 };
    double ms[N_MATCH];
    json_int_t scanned = 0;
    for (int k = 0; k < N_MATCH; k++) {
        uint64_t h = m_height(c) + 1;
        m_add(c, m_dev(k % M_NDEV), "market", "match",
              "{\"x\":%llu,\"y\":%llu,\"service\":\"hash\",\"cpu_milli\":100,\"mem_mb\":100,\"slots\":1,"
              "\"max_dist\":10000,\"max_price\":10,\"expiry\":%llu}",
              (unsigned long long)rnd_in(0, side), (unsigned long long)rnd_in(0, side), (unsigned long long)(h + 100));
        m_commit(c);
        assert_int_equal(c->code[0], 0);
        scanned += m_event_int(c, 0, "matched", "scanned");
        ms[k] = c->last_block_ms;
    }
    for (int i = 1; i < N_MATCH; i++)   /* sort */
        for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) {
            double t = ms[j];
            ms[j] = ms[j - 1];
            ms[j - 1] = t;
        }
    fprintf(stderr, "scale: %zu ENs registered in %.0f ms (%.0f/s); match block (propose+commit, one match tx): "
                    "p50 %.2f ms, max %.2f ms; %.1f ENs scanned per match\n",
            n, reg_ms, n / (reg_ms / 1000), ms[N_MATCH / 2], ms[N_MATCH - 1], (double)scanned / N_MATCH);
    assert_true(ms[N_MATCH / 2] < 50.0);
    assert_true((size_t)scanned / N_MATCH < n / 100);
    m_close(c);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_req_parse),
        cmocka_unit_test(test_market_capacity_never_oversubscribed),
        cmocka_unit_test(test_market_expiry_releases),
        cmocka_unit_test(test_market_misbehaviour),
        cmocka_unit_test(test_market_random_vs_reference),
        cmocka_unit_test(test_market_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
