/* ef_meo_int.h: what the MEO driver's files (ef_meo.c, ef_meo_codec.c, ef_meo_topo.c) share; not for other modules. */
#ifndef EF_MEO_INT_H
#define EF_MEO_INT_H

#include <stdint.h>

#define EF_MEO_LOG "meo"

/* The netmask of an IPv4 prefix length (0..32), host order. */
static inline uint32_t ef_meo_mask(uint8_t prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* Runs `ip [-n netns] -batch -` with script on its stdin (netns NULL: this
 * namespace). 0, or ef_proc_run's error (logged with ip's stderr). */
int ef_meo_ip_batch(const char *netns, const char *script);
/* true if the named network namespace exists (/run/netns/NAME). */
int ef_meo_netns_exists(const char *name);

#endif
