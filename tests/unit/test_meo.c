/* test_meo.c: MEO endpoints (codec, text form), names, the process driver end to end, the REST baseline's authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>

#include <sodium.h>

#include "agents/ef_httpc.h"
#include "agents/ef_meo.h"
#include "agents/ef_soa.h"
#include "base/ef_crypto.h"
#include "base/ef_log.h"

static ef_meo_ep sample_ep(void)
{
    ef_meo_ep ep = {0};
    assert_int_equal(ef_meo_ip_parse(&ep.underlay_ip, "10.77.0.2"), 0);
    ep.vni = 4097;
    ep.vxlan_port = 4789;
    assert_int_equal(ef_meo_ip_parse(&ep.overlay_net, "100.65.0.0"), 0);
    ep.overlay_prefix = 30;
    ep.overlay_ip = ep.overlay_net + 2;
    ep.app_port = 21000;
    return ep;
}

static void assert_ep_equal(const ef_meo_ep *a, const ef_meo_ep *b)
{
    assert_int_equal(a->underlay_ip, b->underlay_ip);
    assert_int_equal(a->vni, b->vni);
    assert_int_equal(a->vxlan_port, b->vxlan_port);
    assert_int_equal(a->overlay_net, b->overlay_net);
    assert_int_equal(a->overlay_prefix, b->overlay_prefix);
    assert_int_equal(a->overlay_ip, b->overlay_ip);
    assert_int_equal(a->app_port, b->app_port);
}

static void test_ep_codec_and_text(void **state)
{
    (void)state;
    ef_meo_ep ep = sample_ep(), back;
    assert_int_equal(ef_meo_ep_valid(&ep), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_meo_ep_encode(&w, &ep), 0);
    assert_int_equal(w.len, EF_MEO_EP_WIRE_SIZE);
    ef_rd r;
    ef_rd_init(&r, w.buf, w.len);
    assert_int_equal(ef_meo_ep_decode(&r, &back), 0);
    assert_int_equal(ef_rd_finish(&r), 0);
    assert_ep_equal(&ep, &back);
    /* Truncated input and a field that breaks the rules are rejected, output zeroed. */
    ef_rd_init(&r, w.buf, w.len - 1);
    assert_int_equal(ef_meo_ep_decode(&r, &back), EF_ETRUNC);
    assert_int_equal(back.vni, 0);
    w.buf[14] = 31; /* prefix */
    ef_rd_init(&r, w.buf, w.len);
    assert_int_equal(ef_meo_ep_decode(&r, &back), EF_EINVAL);
    ef_wr_free(&w);

    char s[EF_MEO_EP_STR_MAX];
    assert_int_equal(ef_meo_ep_format(s, sizeof s, &ep), 0);
    assert_string_equal(s, "ul=10.77.0.2 vni=4097 vport=4789 net=100.65.0.0/30 ip=100.65.0.2 app=21000");
    assert_int_equal(ef_meo_ep_parse(&back, s), 0);
    assert_ep_equal(&ep, &back);
    const char *bad[] = {
        "", "ul=10.77.0.2",
        "ul=10.77.0.2 vni=0 vport=4789 net=100.65.0.0/30 ip=100.65.0.2 app=1",          /* vni 0 */
        "ul=10.77.0.2 vni=16777216 vport=4789 net=100.65.0.0/30 ip=100.65.0.2 app=1",   /* vni too big */
        "ul=10.77.0.2 vni=1 vport=4789 net=100.65.0.1/30 ip=100.65.0.2 app=1",          /* host bits */
        "ul=10.77.0.2 vni=1 vport=4789 net=100.65.0.0/30 ip=100.65.0.3 app=1",          /* broadcast */
        "ul=10.77.0.2 vni=1 vport=4789 net=100.65.0.0/30 ip=100.66.0.1 app=1",          /* outside */
        "ul=10.77.0.2 vni=1 vport=4789 net=100.65.0.0/30 ip=100.65.0.1 app=65536",
        "ul=10.77.0.2 vni=1 vport=4789 net=100.65.0.0/30 ip=100.65.0.1 app=1 x=2",
        "ul=10.77.0.2  vni=1 vport=4789 net=100.65.0.0/30 ip=100.65.0.1 app=1",
        "ul=10.77.0.2 vni=01 vport=4789 net=100.65.0.0/30 ip=100.65.0.1 app=1",
        "ul=10.77.0.2;ip link del x vni=1 vport=4789 net=100.65.0.0/30 ip=100.65.0.1 app=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        back.vni = 99;
        assert_int_equal(ef_meo_ep_parse(&back, bad[i]), EF_EINVAL);
        assert_int_equal(back.vni, 0);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_true(ef_meo_name_ok("mec-1.a_b"));
    assert_false(ef_meo_name_ok(""));
    assert_false(ef_meo_name_ok("-rf"));
    assert_false(ef_meo_name_ok(".hidden"));
    assert_false(ef_meo_name_ok("a b"));
    assert_false(ef_meo_name_ok("a/b"));
    assert_false(ef_meo_name_ok("a;b"));
    assert_false(ef_meo_name_ok("0123456789012345678901234567890123"));
    assert_true(ef_meo_name_ok("0123456789012345678901234567890"));  /* 31 chars */
    uint32_t ip;
    assert_int_equal(ef_meo_ip_parse(&ip, "1.2.3.4"), 0);
    assert_int_equal(ip, 0x01020304u);
    assert_int_equal(ef_meo_ip_parse(&ip, "1.2.3"), EF_EINVAL);
    assert_int_equal(ef_meo_ip_parse(&ip, "1.2.3.4 "), EF_EINVAL);
    char url_path[64];
    uint16_t port;
    assert_int_equal(ef_httpc_parse_url("http://127.0.0.1:8080/x/y", &ip, &port, url_path, sizeof url_path), 0);
    assert_int_equal(port, 8080);
    assert_string_equal(url_path, "/x/y");
    assert_int_equal(ef_httpc_parse_url("http://localhost:8080/", &ip, &port, url_path, sizeof url_path), EF_EINVAL);
    assert_int_equal(ef_httpc_parse_url("http://1.2.3.4/", &ip, &port, url_path, sizeof url_path), EF_EINVAL);
    assert_int_equal(ef_httpc_parse_url("http://1.2.3.4:0/", &ip, &port, url_path, sizeof url_path), EF_EINVAL);
}

static const char *edgefed_path(void)
{
    const char *p = getenv("EDGEFED");
    assert_non_null(p);  /* ctest sets it */
    return p;
}

static void test_open_rejects(void **state)
{
    (void)state;
    ef_meo *m = NULL;
    ef_meo_config c = {.mec_name = "m", .app_path = edgefed_path()};
    assert_int_equal(ef_meo_open(&m, "docker", &c), EF_ECONFIG);
    c.mec_name = "bad name";
    assert_int_equal(ef_meo_open(&m, "process", &c), EF_ECONFIG);
    c.mec_name = "m";
    c.app_path = "/nonexistent/edgefed";
    assert_int_equal(ef_meo_open(&m, "process", &c), EF_ECONFIG);
    c.app_path = edgefed_path();
    c.port_min = 3000;
    c.port_max = 2000;
    assert_int_equal(ef_meo_open(&m, "process", &c), EF_ECONFIG);
    assert_null(m);
}

static void test_process_driver(void **state)
{
    (void)state;
    ef_meo *cons, *prov;
    ef_meo_config cc = {.mec_name = "cons", .app_path = edgefed_path()};
    ef_meo_config pc = {.mec_name = "prov", .app_path = edgefed_path(), .port_min = 23100, .port_max = 23199};
    assert_int_equal(ef_meo_open(&cons, "process", &cc), 0);
    assert_int_equal(ef_meo_open(&prov, "process", &pc), 0);
    assert_string_equal(ef_meo_driver(cons), "process");
    ef_meo_ep cep, pep, cep2;
    assert_int_equal(ef_meo_prepare(cons, "svc-a", &cep), 0);
    assert_int_equal(ef_meo_prepare(cons, "svc-a", &cep2), EF_EEXIST);
    assert_int_equal(ef_meo_prepare(cons, "svc-b", &cep2), 0);
    assert_true(cep2.vni != cep.vni && cep2.overlay_net != cep.overlay_net);
    assert_int_equal(ef_meo_deploy(prov, "svc-a", "bad kind", &cep, &pep), EF_EINVAL);
    assert_int_equal(ef_meo_deploy(prov, "svc-a", "echo", &cep, &pep), 0);
    ef_meo_ep pep2;
    assert_int_equal(ef_meo_deploy(prov, "svc-a", "echo", &cep, &pep2), EF_EEXIST);
    assert_int_equal(pep2.app_port, 0);  /* zeroed on failure */
    assert_true(pep.app_port >= 23100 && pep.app_port <= 23199);
    assert_int_equal(pep.vni, cep.vni);
    assert_true(pep.overlay_ip != cep.overlay_ip);
    assert_int_equal(ef_meo_connect(prov, "svc-a", &pep, &cep), 0);
    assert_int_equal(ef_meo_connect(prov, "svc-a", &pep, &cep), 0);  /* same again: no-op */
    assert_int_equal(ef_meo_connect(cons, "svc-a", &cep, &pep), 0);
    assert_int_equal(ef_meo_connect(cons, "svc-a", &cep, &cep), EF_EINVAL);
    assert_int_equal(ef_meo_check(cons, "svc-a", &pep, 5000), 0);
    ef_meo_times t;
    assert_int_equal(ef_meo_times_get(prov, "svc-a", &t), 0);
    assert_true(t.deploy_us > 0);
    assert_int_equal(ef_meo_times_get(cons, "svc-a", &t), 0);
    assert_true(t.check_us > 0);
    /* A check that expects another service id gets the wrong answer. */
    assert_int_equal(ef_meo_check(cons, "svc-b", &pep, 300), EF_EPROTO);
    /* The app goes down: the check fails. */
    assert_int_equal(ef_meo_teardown(prov, "svc-a"), 0);
    assert_int_equal(ef_meo_teardown(prov, "svc-a"), 0);
    assert_int_equal(ef_meo_check(cons, "svc-a", &pep, 300), EF_ETIMEOUT);
    assert_int_equal(ef_meo_teardown(cons, "svc-a"), 0);
    assert_int_equal(ef_meo_times_get(cons, "svc-a", &t), EF_ENOTFOUND);
    ef_meo_close(prov);
    ef_meo_close(cons);  /* tears down svc-b */
}

/* Eight services at once through one consumer and one provider instance. */
#define CONC_N 8
typedef struct conc_arg { ef_meo *cons, *prov; int i, rc; } conc_arg;

static void *conc_thread(void *p)
{
    conc_arg *a = p;
    char sid[32];
    snprintf(sid, sizeof sid, "conc-%d", a->i);
    ef_meo_ep cep, pep;
    a->rc = ef_meo_prepare(a->cons, sid, &cep);
    if (!a->rc) a->rc = ef_meo_deploy(a->prov, sid, "echo", &cep, &pep);
    if (!a->rc) a->rc = ef_meo_connect(a->prov, sid, &pep, &cep);
    if (!a->rc) a->rc = ef_meo_connect(a->cons, sid, &cep, &pep);
    if (!a->rc) a->rc = ef_meo_check(a->cons, sid, &pep, 10000);
    int t1 = ef_meo_teardown(a->prov, sid), t2 = ef_meo_teardown(a->cons, sid);
    if (!a->rc) a->rc = t1 ? t1 : t2;
    return NULL;
}

static void test_process_concurrent(void **state)
{
    (void)state;
    ef_meo *cons, *prov;
    ef_meo_config cc = {.mec_name = "cons", .app_path = edgefed_path()};
    ef_meo_config pc = {.mec_name = "prov", .app_path = edgefed_path(), .port_min = 23300, .port_max = 23399};
    assert_int_equal(ef_meo_open(&cons, "process", &cc), 0);
    assert_int_equal(ef_meo_open(&prov, "process", &pc), 0);
    pthread_t th[CONC_N];
    conc_arg args[CONC_N];
    for (int i = 0; i < CONC_N; i++) {
        args[i] = (conc_arg){.cons = cons, .prov = prov, .i = i, .rc = -999};
        assert_int_equal(pthread_create(&th[i], NULL, conc_thread, &args[i]), 0);
    }
    for (int i = 0; i < CONC_N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < CONC_N; i++) assert_int_equal(args[i].rc, 0);
    ef_meo_close(prov);
    ef_meo_close(cons);
}

/* One in-process provider, a process driver behind it, keys for "alice". */
typedef struct soa_fixture {
    ef_meo *pmeo, *cmeo;
    ef_soa_provider *prov;
    ef_soa_peer peer;
} soa_fixture;

static int soa_setup(void **state)
{
    soa_fixture *f = calloc(1, sizeof *f);
    ef_meo_config pc = {.mec_name = "prov", .app_path = edgefed_path(), .port_min = 23200, .port_max = 23299};
    ef_meo_config cc = {.mec_name = "alice", .app_path = edgefed_path()};
    if (!f || ef_meo_open(&f->pmeo, "process", &pc) || ef_meo_open(&f->cmeo, "process", &cc)) return -1;
    ef_soa_cred cred = {.id = "alice"};
    randombytes_buf(cred.key, sizeof cred.key);
    ef_soa_provider_cfg cfg = {.name = "prov", .listen_ip = 0x7f000001u, .listen_port = 23090,
                               .creds = &cred, .n_creds = 1, .meo = f->pmeo};
    if (ef_pricing_default(&cfg.pricing, "DE")) return -1;
    if (ef_soa_provider_start(&f->prov, &cfg)) return -1;
    snprintf(f->peer.name, sizeof f->peer.name, "prov");
    f->peer.ip = 0x7f000001u;
    f->peer.port = 23090;
    f->peer.cred = cred;
    *state = f;
    return 0;
}

static int soa_teardown(void **state)
{
    soa_fixture *f = *state;
    ef_soa_provider_stop(f->prov);
    ef_meo_close(f->pmeo);
    ef_meo_close(f->cmeo);
    free(f);
    return 0;
}

static void test_soa_federate(void **state)
{
    soa_fixture *f = *state;
    ef_soa_consumer_cfg cc = {.peers = &f->peer, .n_peers = 1, .meo = f->cmeo};
    ef_soa_result r;
    assert_int_equal(ef_soa_federate(&cc, "alice-1", "vr-game", &r), 0);
    assert_string_equal(r.provider, "prov");
    assert_int_equal(r.offers, 1);
    assert_true(r.price > 0);
    assert_true(r.total_us >= r.offers_us + r.deploy_us);
    assert_true(r.prov_ep.app_port >= 23200);
    /* The same id again: the provider refuses the duplicate deploy (409). */
    ef_soa_result r2;
    ef_meo *c2;
    ef_meo_config c2c = {.mec_name = "alice2", .app_path = edgefed_path()};
    assert_int_equal(ef_meo_open(&c2, "process", &c2c), 0);
    ef_soa_consumer_cfg cc2 = cc;
    cc2.meo = c2;
    assert_int_equal(ef_soa_federate(&cc2, "alice-1", "vr-game", &r2), EF_EEXIST);
    ef_meo_close(c2);
    assert_int_equal(ef_soa_release(&cc, r.winner, "alice-1"), 0);
}

static void test_soa_rejects_bad_credentials(void **state)
{
    soa_fixture *f = *state;
    char out[EF_SOA_BODY_MAX];
    int status;
    const char *body = "{\"service\":\"alice-2\",\"kind\":\"x\"}";
    assert_int_equal(ef_soa_call(&f->peer, NULL, "POST", "/quote", body, 5000, &status, out), 0);
    assert_int_equal(status, 200);
    assert_non_null(strstr(out, "\"price\""));
    /* Wrong key: 403. */
    ef_soa_peer bad = f->peer;
    bad.cred.key[0] ^= 1;
    assert_int_equal(ef_soa_call(&bad, NULL, "POST", "/quote", body, 5000, &status, out), 0);
    assert_int_equal(status, 403);
    /* Unknown client: 401. */
    bad = f->peer;
    snprintf(bad.cred.id, sizeof bad.cred.id, "mallory");
    assert_int_equal(ef_soa_call(&bad, NULL, "POST", "/deploy", body, 5000, &status, out), 0);
    assert_int_equal(status, 401);
    /* No headers at all, and a stale time: 401. */
    ef_httpc_resp r;
    assert_int_equal(ef_httpc_request(&r, NULL, f->peer.ip, f->peer.port, "POST", "/quote", NULL, body, strlen(body), 5000), 0);
    assert_int_equal(r.status, 401);
    ef_httpc_resp_free(&r);
    const char *stale[] = {"X-EF-Client: alice", "X-EF-Time: 1000",
                           "X-EF-Auth: 0000000000000000000000000000000000000000000000000000000000000000", NULL};
    assert_int_equal(ef_httpc_request(&r, NULL, f->peer.ip, f->peer.port, "POST", "/quote", stale, body, strlen(body), 5000), 0);
    assert_int_equal(r.status, 401);
    ef_httpc_resp_free(&r);
    /* Health needs no credentials. */
    assert_int_equal(ef_httpc_request(&r, NULL, f->peer.ip, f->peer.port, "GET", "/health", NULL, NULL, 0, 5000), 0);
    assert_int_equal(r.status, 200);
    ef_httpc_resp_free(&r);
}

static void test_soa_files(void **state)
{
    (void)state;
    const char *tmp = getenv("EF_TEST_TMP");
    char path[512];
    snprintf(path, sizeof path, "%s/test_meo_reg.txt", tmp ? tmp : "/tmp");
    if (tmp) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp);
        assert_int_equal(system(cmd), 0);
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "# providers\nmec0 10.77.0.1:7000 mec3 %064x\n\nmec1 10.77.0.2:7000 mec3 %s\n", 0,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    fclose(fp);
    ef_soa_peer peers[4];
    assert_int_equal(ef_soa_read_registry(path, peers, 4), 2);
    assert_string_equal(peers[1].name, "mec1");
    assert_int_equal(peers[1].port, 7000);
    assert_int_equal(peers[1].cred.key[1], 0x11);
    assert_int_equal(ef_soa_read_registry(path, peers, 1), EF_ETOOBIG);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "mec0 10.77.0.1:7000 mec3 00zz\n");
    fclose(fp);
    assert_int_equal(ef_soa_read_registry(path, peers, 4), EF_EINVAL);
    ef_soa_cred creds[2];
    assert_int_equal(ef_soa_read_creds(path, creds, 2), EF_EINVAL);
    remove(path);
    assert_int_equal(ef_soa_read_creds(path, creds, 2), EF_EIO);
}

int main(void)
{
    assert_int_equal(ef_crypto_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ep_codec_and_text),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_open_rejects),
        cmocka_unit_test(test_process_driver),
        cmocka_unit_test(test_process_concurrent),
        cmocka_unit_test_setup_teardown(test_soa_federate, soa_setup, soa_teardown),
        cmocka_unit_test_setup_teardown(test_soa_rejects_bad_credentials, soa_setup, soa_teardown),
        cmocka_unit_test(test_soa_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
