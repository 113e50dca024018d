/* ef_meo_codec.h: the MEO endpoint (one side's data-plane address and tunnel) and its binary and text forms; IPv4 and name checks.
 *
 * Consumer and provider exchange these endpoints through the ledger or the
 * REST baseline (ef_meo.h says who fills which field); the decoders take
 * untrusted input (fuzz/fuzz_meo_ep.c). Pure functions: no state, any thread.
 */
#ifndef EF_MEO_CODEC_H
#define EF_MEO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_err.h"

#define EF_MEO_NAME_MAX 32        /* MEC name, netns name, service id: chars incl. NUL */
#define EF_MEO_IP_STR_MAX 16      /* "255.255.255.255" + NUL */
#define EF_MEO_EP_STR_MAX 128     /* ef_meo_ep_format output incl. NUL */
#define EF_MEO_EP_WIRE_SIZE 21    /* ef_meo_ep_encode output */

/* One side's data-plane endpoint, exchanged between consumer and provider
 * (through the ledger or the REST baseline). IPv4 addresses are host-order
 * integers: a.b.c.d == a<<24 | b<<16 | c<<8 | d.
 *
 * The consumer's endpoint (from ef_meo_prepare) chooses the tunnel: vni,
 * vxlan_port, overlay_net/overlay_prefix, and its own overlay_ip (.1 of the
 * subnet); app_port is 0. The provider's endpoint (from ef_meo_deploy) repeats
 * the tunnel and gives its own underlay_ip, overlay_ip (.2 of the subnet) and
 * the app_port its app listens on. The process driver fills the same fields (its
 * underlay is 127.0.0.1 and the tunnel fields are carried but not used).
 *
 * Wire encoding (ef_meo_ep_encode; canonical codec, little-endian):
 *   offset size meaning
 *   0      4    underlay_ip
 *   4      4    vni (1 .. 2^24-1)
 *   8      2    vxlan_port (UDP, not 0)
 *   10     4    overlay_net (host bits zero)
 *   14     1    overlay_prefix (8 .. 30)
 *   15     4    overlay_ip (inside overlay_net, not network or broadcast)
 *   19     2    app_port (0 in a consumer endpoint)
 * Text form (ef_meo_ep_format/parse), one line, fields in this order:
 *   "ul=10.77.0.2 vni=4097 vport=4789 net=100.65.0.0/30 ip=100.65.0.1 app=0"
 */
typedef struct ef_meo_ep {
    uint32_t underlay_ip;
    uint32_t vni;
    uint16_t vxlan_port;
    uint32_t overlay_net;
    uint8_t overlay_prefix;
    uint32_t overlay_ip;
    uint16_t app_port;
} ef_meo_ep;

/* Checks the field rules above (app_port may be 0). 0 or EF_EINVAL. */
int ef_meo_ep_valid(const ef_meo_ep *ep) EF_MUST_USE;
/* Appends the 21-byte encoding to w. Returns w's sticky error. */
int ef_meo_ep_encode(ef_wr *w, const ef_meo_ep *ep);
/* Reads 21 bytes from r and validates; on failure *ep is zeroed and the reader's
 * error (or EF_EINVAL for a field rule) is returned. Does not call ef_rd_finish. */
int ef_meo_ep_decode(ef_rd *r, ef_meo_ep *ep) EF_MUST_USE;
/* Writes the text form into out (cap >= EF_MEO_EP_STR_MAX). Returns 0 or EF_EINVAL. */
int ef_meo_ep_format(char *out, size_t cap, const ef_meo_ep *ep);
/* Parses the text form exactly (fields in order, single spaces); validates.
 * 0 or EF_EINVAL (then *ep is zeroed). */
int ef_meo_ep_parse(ef_meo_ep *ep, const char *s) EF_MUST_USE;

/* IPv4 helpers: dotted quad <-> host-order integer. out needs EF_MEO_IP_STR_MAX. */
int ef_meo_ip_parse(uint32_t *ip, const char *s) EF_MUST_USE;
void ef_meo_ip_format(char out[EF_MEO_IP_STR_MAX], uint32_t ip);
/* true if s is a safe name for a netns, interface or service id: 1..31 chars of
 * [A-Za-z0-9._-], not starting with '-' or '.'. */
bool ef_meo_name_ok(const char *s);

#endif
