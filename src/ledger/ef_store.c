/* ef_store.c: the LMDB store: open/close, genesis, and the read functions
 * (see ef_store.h for the layout). Uses ef_state.c and ef_ctx.c (see the order
 * in ef_store_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "base/ef_merkle.h"
#include "ledger/ef_store_int.h"

int ef_store_open(ef_store **out, const char *dir, const ef_store_opts *opts)
{
    ef_store *s = NULL;
    MDB_txn *txn = NULL;
    int rc;
    *out = NULL;
    if (!opts || !opts->contracts || opts->contracts_len > EF_STORE_CONTRACTS_MAX) return EF_EINVAL;
    if (mkdir(dir, 0700) && errno != EEXIST) return EF_EIO;
    s = calloc(1, sizeof *s);
    if (!s) return EF_ENOMEM;
    s->undo = calloc(EF_CTX_WRITES_MAX, sizeof *s->undo);
    if (!s->undo) {
        free(s);
        return EF_ENOMEM;
    }
    s->statm_fd = -1;
    s->contracts = opts->contracts;
    s->contracts_len = opts->contracts_len;
    s->no_sync = opts && opts->no_sync;
    uint64_t map = opts && opts->map_size ? opts->map_size : EF_STORE_MAP_SIZE_DEFAULT;
    if ((rc = mdb_env_create(&s->env))) goto fail;
    if ((rc = mdb_env_set_maxdbs(s->env, 8))) goto fail;
    if ((rc = mdb_env_set_maxreaders(s->env, EF_STORE_READERS_MAX))) goto fail;
    if ((rc = mdb_env_set_mapsize(s->env, (size_t)map))) goto fail;
    /* MDB_NORDAHEAD: random reads of the tx index and state should not pull
     * neighbouring pages into the page cache and this process's resident set */
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (s->no_sync ? MDB_NOSYNC : 0);
    if ((rc = mdb_env_open(s->env, dir, flags, 0600))) goto fail;
    int dead = 0;
    mdb_reader_check(s->env, &dead);   /* clear slots of readers that died (crash) */
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn))) goto fail;
    if ((rc = mdb_dbi_open(txn, "blocks", MDB_CREATE, &s->db_blocks))) goto fail;
    if ((rc = mdb_dbi_open(txn, "certs", MDB_CREATE, &s->db_certs))) goto fail;
    if ((rc = mdb_dbi_open(txn, "txs", MDB_CREATE, &s->db_txs))) goto fail;
    if ((rc = mdb_dbi_open(txn, "results", MDB_CREATE, &s->db_results))) goto fail;
    if ((rc = mdb_dbi_open(txn, "state", MDB_CREATE, &s->db_state))) goto fail;
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->db_meta))) goto fail;
    /* a store written with other consensus bytes (JSON text state before format
     * 2) cannot be continued: its hashes would not be recomputed the same */
    MDB_val hk = {6, "height"}, fk = {6, "format"}, fv;
    if (mdb_get(txn, s->db_meta, &hk, &fv) == 0) {
        uint32_t format = 1;
        int frc = mdb_get(txn, s->db_meta, &fk, &fv);
        if (frc == 0 && fv.mv_size == 4) format = ef_get_u32le(fv.mv_data);
        else if (frc != MDB_NOTFOUND) format = 0;
        if (format != EF_STORE_FORMAT) {
            EF_LOGE("store", "open %s: store format %u, this edgefed writes format %u (other consensus "
                             "bytes, docs/consensus-bytes.md): start a new chain in an empty directory",
                    dir, (unsigned)format, (unsigned)EF_STORE_FORMAT);
            mdb_txn_abort(txn);
            mdb_env_close(s->env);
            free(s->undo);
            free(s);
            return EF_ECONFIG;
        }
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) goto fail;
    *out = s;
    return 0;
fail:
    EF_LOGE("store", "open %s: %s", dir, mdb_strerror(rc));
    if (txn) mdb_txn_abort(txn);
    if (s->env) mdb_env_close(s->env);
    free(s->undo);
    free(s);
    return rc == ENOENT || rc == EACCES ? EF_EIO : ef_mdb_err(rc);
}

void ef_store_pending_drop(ef_store *s)
{
    if (s->pending) mdb_txn_abort(s->pending);
    s->pending = NULL;
    memset(&s->pending_hash, 0, sizeof s->pending_hash);
}

void ef_store_close(ef_store *s)
{
    if (!s) return;
    ef_store_pending_drop(s);
    mdb_env_close(s->env);
    if (s->statm_fd >= 0) close(s->statm_fd);
    free(s->undo);
    free(s);
}

void ef_store_on_commit(ef_store *s, ef_store_commit_fn fn, void *arg)
{
    s->on_commit = fn;
    s->on_commit_arg = arg;
}

static int ef_rdtxn(ef_store *s, MDB_txn **txn)
{
    return ef_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn));
}

int ef_store_info_get(ef_store *s, ef_store_info *out)
{
    MDB_txn *txn;
    memset(out, 0, sizeof *out);
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    rc = ef_store_meta_read(txn, s, out);
    mdb_txn_abort(txn);
    return rc;
}

uint64_t ef_store_height(ef_store *s)
{
    ef_store_info info;
    return ef_store_info_get(s, &info) ? 0 : info.height;
}

static int ef_get_copy(ef_store *s, MDB_dbi db, const void *key, size_t key_len,
                       uint8_t **out, size_t *len)
{
    MDB_txn *txn;
    MDB_val k = {key_len, (void *)key}, v;
    *out = NULL;
    *len = 0;
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    rc = mdb_get(txn, db, &k, &v);
    if (rc) {
        mdb_txn_abort(txn);
        return ef_mdb_err(rc);
    }
    *out = malloc(v.mv_size ? v.mv_size : 1);
    if (!*out) {
        mdb_txn_abort(txn);
        return EF_ENOMEM;
    }
    memcpy(*out, v.mv_data, v.mv_size);
    *len = v.mv_size;
    mdb_txn_abort(txn);
    return 0;
}

int ef_store_block(ef_store *s, uint64_t height, uint8_t **out, size_t *len)
{
    uint8_t k[8];
    ef_be64(k, height);
    return ef_get_copy(s, s->db_blocks, k, 8, out, len);
}

int ef_store_cert(ef_store *s, uint64_t height, uint8_t **out, size_t *len)
{
    uint8_t k[8];
    ef_be64(k, height);
    return ef_get_copy(s, s->db_certs, k, 8, out, len);
}

int ef_store_header(ef_store *s, uint64_t height, ef_block_header *out)
{
    uint8_t k[8];
    MDB_txn *txn;
    MDB_val key = {8, k}, v;
    ef_be64(k, height);
    memset(out, 0, sizeof *out);
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    rc = ef_mdb_err(mdb_get(txn, s->db_blocks, &key, &v));
    if (rc == 0) {
        ef_rd r;
        ef_rd_init(&r, v.mv_data, v.mv_size);
        if (ef_block_header_decode_rd(&r, out)) rc = EF_EDB;
    }
    mdb_txn_abort(txn);
    return rc;
}

int ef_store_result(ef_store *s, uint64_t height, uint32_t index, int *code, char **events_json)
{
    uint8_t k[12], *v;
    size_t n;
    *code = 0;
    if (events_json) *events_json = NULL;
    ef_be64(k, height);
    ef_be32(k + 8, index);
    int rc = ef_get_copy(s, s->db_results, k, sizeof k, &v, &n);
    if (rc) return rc;
    ef_rd r;
    int64_t c;
    const uint8_t *ev;
    size_t ev_len;
    ef_rd_init(&r, v, n);
    ef_rd_i64(&r, &c);
    ef_rd_bytes(&r, &ev, &ev_len, EF_EVENTS_ENC_MAX);
    if (ef_rd_finish(&r)) {
        free(v);
        return EF_EDB;
    }
    *code = (int)c;
    if (events_json) {
        /* stored canonical (what the results root covers); shown as JSON text */
        json_t *evs;
        rc = ef_cj_decode(&evs, ev, ev_len);
        free(v);
        if (rc) return rc == EF_ENOMEM ? rc : EF_EDB;
        if (!json_is_array(evs)) {
            json_decref(evs);
            return EF_EDB;
        }
        *events_json = json_dumps(evs, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(evs);
        return *events_json ? 0 : EF_ENOMEM;
    }
    free(v);
    return 0;
}

int ef_store_tx_lookup(ef_store *s, const ef_hash *tx_hash, ef_tx_loc *out)
{
    uint8_t *v;
    size_t n;
    memset(out, 0, sizeof *out);
    int rc = ef_get_copy(s, s->db_txs, tx_hash->b, EF_HASH_SIZE, &v, &n);
    if (rc) return rc;
    if (n != 12) {
        free(v);
        return EF_EDB;
    }
    out->height = ef_get_u64le(v);
    out->index = ef_get_u32le(v + 8);
    free(v);
    rc = ef_store_result(s, out->height, out->index, &out->code, &out->events_json);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc == EF_ENOTFOUND ? EF_EDB : rc;
    }
    return 0;
}

/* LMDB reports its map address only for MDB_FIXEDMAP: find the mapping of the
 * data file (by inode) in /proc/self/maps. It does not move while the env is open. */
static int ef_store_find_map(ef_store *s)
{
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st)) return EF_EIO;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return EF_EIO;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 && ino == (unsigned long)st.st_ino &&
            hi - lo > s->map_len && strstr(line, "data.mdb")) {
            s->map_addr = (void *)lo;
            s->map_len = hi - lo;
        }
    }
    fclose(f);
    return s->map_addr ? 0 : EF_ENOTFOUND;
}

int ef_store_release_pages(ef_store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc;
    if (!s->map_addr && (rc = ef_store_find_map(s))) return rc;
    if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st)) return EF_EIO;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    used = (EF_MIN(used, s->map_len) + page - 1) / page * page;
    if (madvise(s->map_addr, used, MADV_DONTNEED)) return EF_EIO;
    return 0;
}

/* File-backed resident bytes of this process (program, libraries, the map), from
 * the third field of /proc/self/statm; 0 if it cannot be read. */
static unsigned long ef_store_file_resident(const ef_store *s)
{
    char buf[128];
    ssize_t n = pread(s->statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    unsigned long size = 0, resident = 0, shared = 0;
    if (sscanf(buf, "%lu %lu %lu", &size, &resident, &shared) != 3) return 0;
    return shared * (unsigned long)sysconf(_SC_PAGESIZE);
}

int ef_store_set_resident_budget(ef_store *s, size_t bytes)
{
    if (s->statm_fd < 0) s->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (s->statm_fd < 0) return EF_EIO;
    s->resident_budget = bytes;
    atomic_store(&s->resident_floor, ef_store_file_resident(s));
    return 0;
}

bool ef_store_trim(ef_store *s)
{
    if (!s->resident_budget || s->statm_fd < 0) return false;
    unsigned long now = ef_store_file_resident(s);
    if (now <= atomic_load(&s->resident_floor) + s->resident_budget) return false;
    if (ef_store_release_pages(s)) return false;
    atomic_store(&s->resident_floor, ef_store_file_resident(s));
    return true;
}

int ef_store_state_get(ef_store *s, const char *ns, const void *key, size_t key_len,
                       uint8_t **val, size_t *val_len)
{
    uint8_t k[EF_STATE_KEY_MAX];
    *val = NULL;
    *val_len = 0;
    int n = ef_state_key(k, ns, key, key_len);
    if (n < 0) return EF_ELIMIT;
    return ef_get_copy(s, s->db_state, k, (size_t)n, val, val_len);
}

int ef_store_nonce(ef_store *s, const ef_pub *sender, uint64_t *next)
{
    uint8_t *v;
    size_t n;
    *next = 0;
    int rc = ef_store_state_get(s, EF_NS_NONCE, sender->b, EF_PUB_SIZE, &v, &n);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    if (n == 8) *next = ef_get_u64le(v);
    else rc = EF_EDB;
    free(v);
    return rc;
}

int ef_store_account(ef_store *s, const ef_pub *sender)
{
    MDB_txn *txn;
    ef_store_info info;
    ef_block_header hdr;
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    if ((rc = ef_store_meta_read(txn, s, &info))) goto out;
    if (!info.initialised) {
        rc = EF_ESTATE;
        goto out;
    }
    memset(&hdr, 0, sizeof hdr);
    hdr.version = EF_BLOCK_VERSION;
    memcpy(hdr.chain_id, info.chain_id, sizeof hdr.chain_id);
    hdr.height = info.height;
    hdr.time_ms = info.last_time_ms;
    hdr.prev_hash = info.last_hash;
    rc = ef_ctx_account(s, txn, &hdr, sender);
out:
    mdb_txn_abort(txn);
    return rc;
}

int ef_store_vset(ef_store *s, uint64_t height, ef_vset *out)
{
    MDB_txn *txn;
    ef_store_info info;
    out->len = 0;
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    if ((rc = ef_store_meta_read(txn, s, &info))) goto out;
    if (!info.initialised) {
        rc = EF_ENOTFOUND;
        goto out;
    }
    if (height > info.height + EF_VSET_DELAY) {
        rc = EF_EAGAIN;
        goto out;
    }
    rc = ef_state_vset(txn, s->db_state, height, out);
out:
    mdb_txn_abort(txn);
    return rc;
}

/* Runs a read-only query of contract c: JSON (out) or text (text, text_len). */
static int ef_store_query_any(ef_store *s, const ef_contract *c, const char *path, json_t **out, char **text,
                              size_t *text_len)
{
    MDB_txn *txn;
    ef_store_info info;
    ef_block_header hdr;
    ef_ctx ctx;
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    if ((rc = ef_store_meta_read(txn, s, &info))) goto out;
    memset(&hdr, 0, sizeof hdr);
    hdr.version = EF_BLOCK_VERSION;
    memcpy(hdr.chain_id, info.chain_id, sizeof hdr.chain_id);
    hdr.height = info.height;
    hdr.time_ms = info.last_time_ms;
    hdr.prev_hash = info.last_hash;
    ef_ctx_setup(&ctx, s, txn, &hdr, NULL, true);
    ctx.on_reads = ef_store_trim;
    ctx.contract = c->name;
    if (out) {
        rc = c->query(&ctx, path ? path : "", out);
        if (rc > 0) rc = EF_EINVAL;
        if (rc && *out) {
            json_decref(*out);
            *out = NULL;
        }
    } else {
        rc = c->query_text(&ctx, path ? path : "", text, text_len);
        if (rc > 0) rc = EF_EINVAL;
        if (rc && *text) {
            free(*text);
            *text = NULL;
        }
    }
    ef_ctx_cleanup(&ctx);
out:
    mdb_txn_abort(txn);
    (void)ef_store_trim(s);
    return rc;
}

int ef_store_query(ef_store *s, const char *contract, const char *path, json_t **out)
{
    *out = NULL;
    const ef_contract *c = ef_store_contract(s, contract);
    if (!c) return EF_ENOCONTRACT;
    if (!c->query) return EF_ENOTFOUND;
    return ef_store_query_any(s, c, path, out, NULL, NULL);
}

int ef_store_query_text(ef_store *s, const char *contract, const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    const ef_contract *c = ef_store_contract(s, contract);
    if (!c) return EF_ENOCONTRACT;
    if (!c->query_text) return EF_ENOMETHOD;
    return ef_store_query_any(s, c, path, NULL, out, len);
}

int ef_store_init_genesis(ef_store *s, const ef_genesis *g)
{
    MDB_txn *txn = NULL;
    ef_block_header hdr;
    ef_ctx ctx;
    uint8_t acc[32] = {0};
    ef_wr w;
    int rc;
    if (s->failed) return EF_EIO;
    ef_store_pending_drop(s);
    ef_wr_init(&w);
    memset(&hdr, 0, sizeof hdr);
    hdr.version = EF_BLOCK_VERSION;
    snprintf(hdr.chain_id, sizeof hdr.chain_id, "%s", g->chain_id);
    hdr.height = 0;
    hdr.time_ms = g->time_ms;
    if (!ef_chain_id_valid(hdr.chain_id) || !ef_vset_valid(&g->vset)) return EF_ECONFIG;
    if ((rc = ef_mdb_err(mdb_txn_begin(s->env, NULL, 0, &txn)))) goto out;

    /* the genesis document's digest identifies it on a second init */
    ef_hash gdoc;
    if ((rc = ef_cj_encode(&w, g->doc))) {
        if (rc != EF_ENOMEM) rc = EF_ECONFIG;   /* ef_genesis_parse refuses such a doc */
        goto out;
    }
    ef_hash_tagged(&gdoc, EF_TAG_STATE, w.buf, w.len);
    ef_wr_reset(&w);
    ef_store_info info;
    if ((rc = ef_store_meta_read(txn, s, &info))) goto out;
    if (info.initialised) {
        uint8_t prev[EF_HASH_SIZE];
        rc = ef_store_meta_get(txn, s, "gdoc", prev, EF_HASH_SIZE);
        if (rc == 0) rc = memcmp(prev, gdoc.b, EF_HASH_SIZE) ? EF_EEXIST : 0;
        else if (rc == EF_ENOTFOUND) rc = EF_EEXIST;
        goto out;
    }
    MDB_val gk = {4, "gdoc"}, gv = {EF_HASH_SIZE, gdoc.b};
    if ((rc = ef_mdb_err(mdb_put(txn, s->db_meta, &gk, &gv, 0)))) goto out;
    uint8_t fb[4];
    ef_put_u32le(fb, EF_STORE_FORMAT);
    MDB_val fk = {6, "format"}, fv = {4, fb};
    if ((rc = ef_mdb_err(mdb_put(txn, s->db_meta, &fk, &fv, 0)))) goto out;

    /* the genesis validator set, effective from height 0 */
    uint8_t k[EF_STATE_KEY_MAX], hb[8];
    ef_be64(hb, 0);
    int kn = ef_state_key(k, EF_NS_VSET, hb, 8);
    if ((rc = ef_vset_encode(&w, &g->vset))) goto out;
    if ((rc = ef_state_put(txn, s->db_state, acc, k, (size_t)kn, w.buf, w.len))) goto out;
    ef_wr_reset(&w);

    /* each contract's genesis */
    for (size_t i = 0; i < s->contracts_len; i++) {
        const ef_contract *c = s->contracts[i];
        if (!c->genesis) continue;
        json_t *params = ef_genesis_params(g, c->name, c->genesis_fields);
        ef_ctx_setup(&ctx, s, txn, &hdr, acc, false);
        ctx.contract = c->name;
        ctx.events = json_array();
        ctx.genesis = true;
        rc = c->genesis(&ctx, params);
        ef_ctx_cleanup(&ctx);
        json_decref(params);
        if (rc) {
            EF_LOGE("store", "genesis of contract %s: %s", c->name, ef_strerror(rc));
            rc = EF_ECONFIG;
            goto out;
        }
    }

    /* block 0 */
    ef_vset_hash(&hdr.vset_hash, &g->vset);
    {
        ef_vset next;
        if ((rc = ef_state_vset(txn, s->db_state, 1, &next))) goto out;
        ef_vset_hash(&hdr.next_vset_hash, &next);
    }
    memcpy(hdr.state_hash.b, acc, 32);
    ef_merkle_root(&hdr.txs_root, NULL, 0);
    ef_merkle_root(&hdr.results_root, NULL, 0);
    if ((rc = ef_block_encode(&w, &hdr, NULL, 0))) goto out;
    ef_hash hash;
    ef_block_header_hash(&hash, &hdr);

    ef_be64(hb, 0);
    MDB_val key = {8, hb}, val = {w.len, w.buf};
    if ((rc = ef_mdb_err(mdb_put(txn, s->db_blocks, &key, &val, 0)))) goto out;
    if ((rc = ef_store_meta_write(txn, s, &hdr, &hash, acc, &hash))) goto out;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) {
        s->failed = EF_EIO;
        rc = ef_mdb_err(rc);
        goto out;
    }
    if (s->on_commit) s->on_commit(s->on_commit_arg, 0, &hash);
out:
    if (txn) mdb_txn_abort(txn);
    ef_wr_free(&w);
    return rc;
}

int ef_store_verify_state(ef_store *s, ef_hash *out)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    ef_store_info info;
    uint8_t acc[32] = {0}, term[32];
    memset(out, 0, sizeof *out);
    int rc = ef_rdtxn(s, &txn);
    if (rc) return rc;
    if ((rc = ef_store_meta_read(txn, s, &info))) goto out;
    if ((rc = ef_mdb_err(mdb_cursor_open(txn, s->db_state, &c)))) goto out;
    int mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (mrc == 0) {
        ef_state_term(term, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
        ef_acc_add(acc, term);
        mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (mrc != MDB_NOTFOUND) {
        rc = ef_mdb_err(mrc);
        goto out;
    }
    memcpy(out->b, acc, 32);
    rc = memcmp(acc, info.state_hash.b, 32) ? EF_EROOT : 0;
out:
    mdb_txn_abort(txn);
    return rc;
}
