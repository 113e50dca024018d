/* fuzz_match_req.c: libFuzzer target for the market's match request. The input
 * is a transaction's args: ef_mkt_req_parse either accepts it with every field in
 * range or rejects it with EF_EARGS; and the same args run as a real `match`
 * transaction of a registered device against a store of 64 ENs (proposed, not
 * committed, so every input sees the same state) without crashing or breaking
 * an invariant the contract asserts. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "contracts/ef_market.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

#define FZ_CHAIN "fuzz-market"

static ef_store *fz_store;
static ef_keypair fz_company, fz_device;
static char fz_dir[] = "/tmp/fuzz-market-XXXXXX";

static void fz_cleanup(void)
{
    ef_store_close(fz_store);
    (void)ef_fs_remove_tree(fz_dir);
}

static uint8_t *fz_tx(const ef_keypair *kp, uint64_t nonce, const char *method, const void *args, size_t len,
                      size_t *out_len)
{
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", FZ_CHAIN);
    t.sender = kp->pub;
    t.nonce = nonce;
    snprintf(t.contract, sizeof t.contract, "market");
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = args;
    t.args_len = len;
    if (ef_tx_sign(&t, kp)) return NULL;
    ef_wr w;
    ef_wr_init(&w);
    if (ef_tx_encode(&w, &t)) {
        ef_wr_free(&w);
        return NULL;
    }
    return ef_wr_take(&w, out_len);
}

static void fz_setup(void)
{
    EF_ASSERT(ef_crypto_init() == 0);
    uint8_t seed[EF_SEED_SIZE] = {1};
    ef_keypair_from_seed(&fz_company, seed);
    seed[0] = 2;
    ef_keypair_from_seed(&fz_device, seed);
    char ch[65], dh[65];
    const char *dir = fz_dir;
    EF_ASSERT(mkdtemp(fz_dir));
    atexit(fz_cleanup);
    ef_hex(ch, fz_company.pub.b, EF_PUB_SIZE);
    ef_hex(dh, fz_device.pub.b, EF_PUB_SIZE);
    char g[1024];
    snprintf(g, sizeof g,
             "{\"chain_id\":\"%s\",\"time_ms\":1000,\"validators\":[{\"pub\":\"%s\",\"domain\":\"co\"}],"
             "\"members\":[{\"pub\":\"%s\",\"domain\":\"co\",\"name\":\"dev\"}],\"balances\":{},"
             "\"params\":{\"market\":{\"cell_m\":100,\"ring_max\":8,\"cell_max\":16}}}", FZ_CHAIN, ch, dh);
    ef_genesis gen;
    char err[200];
    EF_ASSERT(ef_genesis_parse(&gen, g, strlen(g), err, sizeof err) == 0);
    EF_ASSERT(ef_store_open(&fz_store, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}) == 0);
    EF_ASSERT(ef_store_init_genesis(fz_store, &gen) == 0);
    ef_genesis_free(&gen);
    ef_txbuf c[64];
    for (int i = 0; i < 64; i++) {
        char a[300];
        snprintf(a, sizeof a, "{\"x\":%d,\"y\":%d,\"cpu_milli\":%d,\"mem_mb\":1024,\"slots\":%d,"
                 "\"services\":[\"hash\"%s],\"price\":%d,\"endpoint\":\"http://e%d\"}",
                 (i % 8) * 70, (i / 8) * 70, 500 * (i % 4 + 1), i % 3 + 1, i % 2 ? ",\"infer\"" : "", i % 5 + 1, i);
        size_t n;
        c[i].enc = fz_tx(&fz_company, (uint64_t)i, "register", a, strlen(a), &n);
        c[i].len = n;
        EF_ASSERT(c[i].enc);
    }
    int st[64];
    uint8_t *blk;
    size_t blen;
    EF_ASSERT(ef_ledger_propose(fz_store, c, 64, 2000, &fz_company.pub, NULL, st, &blk, &blen) == 0);
    for (int i = 0; i < 64; i++) EF_ASSERT(st[i] == 0);
    EF_ASSERT(ef_ledger_commit(fz_store, blk, blen, NULL, 0) == 0);
    free(blk);
    for (int i = 0; i < 64; i++) free((void *)c[i].enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_store) fz_setup();
    json_t *args = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (args) {
        ef_mkt_req q;
        int rc = ef_mkt_req_parse(args, &q);
        EF_ASSERT(rc == 0 || rc == EF_EARGS);
        if (rc == 0)
            EF_ASSERT(q.x <= EF_MKT_COORD_MAX && q.y <= EF_MKT_COORD_MAX && q.slots >= 1 &&
                      q.max_dist <= EF_MKT_COORD_MAX && q.service[0]);
        json_decref(args);
    }
    if (size > 4096) return 0;
    size_t n;
    uint8_t *enc = fz_tx(&fz_device, 0, "match", data, size, &n);
    if (!enc) return 0;
    ef_txbuf c = {enc, n};
    int st = 1;
    uint8_t *blk = NULL;
    size_t blen;
    EF_ASSERT(ef_ledger_propose(fz_store, &c, 1, 3000, &fz_company.pub, NULL, &st, &blk, &blen) == 0);
    free(blk);
    free(enc);
    return 0;
}
