/* ef_meo_codec.c: the MEO endpoint's binary and text forms, IPv4 addresses and names; see ef_meo_codec.h. */
#include "agents/ef_meo_codec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "agents/ef_meo_int.h"

bool ef_meo_name_ok(const char *s)
{
    if (!s || !*s || *s == '-' || *s == '.') return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= EF_MEO_NAME_MAX - 1) return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

int ef_meo_ip_parse(uint32_t *ip, const char *s)
{
    EF_ASSERT(ip);
    *ip = 0;
    struct in_addr ia;
    if (!s || inet_pton(AF_INET, s, &ia) != 1) return EF_EINVAL;
    *ip = ntohl(ia.s_addr);
    return 0;
}

void ef_meo_ip_format(char out[EF_MEO_IP_STR_MAX], uint32_t ip)
{
    snprintf(out, EF_MEO_IP_STR_MAX, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int ef_meo_ep_valid(const ef_meo_ep *ep)
{
    if (!ep) return EF_EINVAL;
    if (ep->underlay_ip == 0 || ep->vni == 0 || ep->vni >= (1u << 24) || ep->vxlan_port == 0) return EF_EINVAL;
    if (ep->overlay_prefix < 8 || ep->overlay_prefix > 30) return EF_EINVAL;
    uint32_t m = ef_meo_mask(ep->overlay_prefix);
    if (ep->overlay_net & ~m) return EF_EINVAL;
    if ((ep->overlay_ip & m) != ep->overlay_net) return EF_EINVAL;
    uint32_t host = ep->overlay_ip & ~m;
    if (host == 0 || host == ~m) return EF_EINVAL;
    return 0;
}

int ef_meo_ep_encode(ef_wr *w, const ef_meo_ep *ep)
{
    ef_wr_u32(w, ep->underlay_ip);
    ef_wr_u32(w, ep->vni);
    ef_wr_u16(w, ep->vxlan_port);
    ef_wr_u32(w, ep->overlay_net);
    ef_wr_u8(w, ep->overlay_prefix);
    ef_wr_u32(w, ep->overlay_ip);
    return ef_wr_u16(w, ep->app_port);
}

int ef_meo_ep_decode(ef_rd *r, ef_meo_ep *ep)
{
    memset(ep, 0, sizeof *ep);
    ef_meo_ep t;
    ef_rd_u32(r, &t.underlay_ip);
    ef_rd_u32(r, &t.vni);
    ef_rd_u16(r, &t.vxlan_port);
    ef_rd_u32(r, &t.overlay_net);
    ef_rd_u8(r, &t.overlay_prefix);
    ef_rd_u32(r, &t.overlay_ip);
    int err = ef_rd_u16(r, &t.app_port);
    if (err) return err;
    if (ef_meo_ep_valid(&t)) return ef_rd_fail(r, EF_EINVAL);
    *ep = t;
    return 0;
}

int ef_meo_ep_format(char *out, size_t cap, const ef_meo_ep *ep)
{
    if (!out || cap < EF_MEO_EP_STR_MAX || ef_meo_ep_valid(ep)) return EF_EINVAL;
    char ul[EF_MEO_IP_STR_MAX], net[EF_MEO_IP_STR_MAX], ip[EF_MEO_IP_STR_MAX];
    ef_meo_ip_format(ul, ep->underlay_ip);
    ef_meo_ip_format(net, ep->overlay_net);
    ef_meo_ip_format(ip, ep->overlay_ip);
    snprintf(out, cap, "ul=%s vni=%u vport=%u net=%s/%u ip=%s app=%u", ul, ep->vni, ep->vxlan_port, net,
             ep->overlay_prefix, ip, ep->app_port);
    return 0;
}

/* Reads "key=" then a decimal or dotted value up to the stop char; advances *s. */
static int ef_meo_take(const char **s, const char *key, char stop, char *val, size_t cap)
{
    size_t k = strlen(key);
    if (strncmp(*s, key, k)) return EF_EINVAL;
    const char *v = *s + k;
    size_t n = 0;
    while (v[n] && v[n] != stop) n++;
    if (n == 0 || n >= cap) return EF_EINVAL;
    memcpy(val, v, n);
    val[n] = 0;
    *s = v + n + (v[n] ? 1 : 0);
    if (stop == ' ' && !v[n]) return EF_EINVAL;  /* more fields must follow */
    return 0;
}

static int ef_meo_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (!*s || (s[0] == '0' && s[1])) return EF_EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return EF_EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max) return EF_EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

int ef_meo_ep_parse(ef_meo_ep *ep, const char *s)
{
    EF_ASSERT(ep);
    memset(ep, 0, sizeof *ep);
    if (!s) return EF_EINVAL;
    ef_meo_ep t;
    memset(&t, 0, sizeof t);
    char v[32];
    uint32_t u;
    if (ef_meo_take(&s, "ul=", ' ', v, sizeof v) || ef_meo_ip_parse(&t.underlay_ip, v)) return EF_EINVAL;
    if (ef_meo_take(&s, "vni=", ' ', v, sizeof v) || ef_meo_u32(v, (1u << 24) - 1, &t.vni)) return EF_EINVAL;
    if (ef_meo_take(&s, "vport=", ' ', v, sizeof v) || ef_meo_u32(v, 65535, &u)) return EF_EINVAL;
    t.vxlan_port = (uint16_t)u;
    if (ef_meo_take(&s, "net=", '/', v, sizeof v) || ef_meo_ip_parse(&t.overlay_net, v)) return EF_EINVAL;
    if (ef_meo_take(&s, "", ' ', v, sizeof v) || ef_meo_u32(v, 32, &u)) return EF_EINVAL;
    t.overlay_prefix = (uint8_t)u;
    if (ef_meo_take(&s, "ip=", ' ', v, sizeof v) || ef_meo_ip_parse(&t.overlay_ip, v)) return EF_EINVAL;
    if (ef_meo_take(&s, "app=", 0, v, sizeof v) || ef_meo_u32(v, 65535, &u)) return EF_EINVAL;
    t.app_port = (uint16_t)u;
    if (*s || ef_meo_ep_valid(&t)) return EF_EINVAL;
    *ep = t;
    return 0;
}
