/* ef_wire.h: the P2P session protocol without I/O: handshake, authentication,
 * sealed length-prefixed frames. ef_net.h drives it over libuv TCP; the fuzzer and
 * the unit tests drive it directly.
 *
 * A connection starts with both sides sending a plaintext hello at once:
 *
 *   hello (EF_HELLO_SIZE = 101 bytes)
 *   offset size  meaning
 *   0      4     magic "EFN1"
 *   4      1     protocol version (EF_WIRE_VERSION)
 *   5      32    network id: BLAKE2b of the chain id; must equal ours (else EF_NR_WRONG_NET)
 *   37     32    ephemeral X25519 public key (crypto_kx), fresh per connection
 *   69     32    the sender's Ed25519 node public key
 *
 * On the peer's hello, each side checks the node key is one it accepts (a
 * validator or a configured observer; else EF_NR_UNKNOWN_KEY), derives the two
 * session keys with crypto_kx (the dialer is the kx "client"), and sends its
 * first sealed frame, the auth frame:
 *
 *   auth plaintext: type EF_P2P_AUTH (1 byte) || Ed25519 signature (64 bytes) by
 *   the node key over EF_TAG_HANDSHAKE || th || role, where
 *   th = BLAKE2b(dialer hello || acceptor hello) and role is 'D' (dialer) or
 *   'A' (acceptor) for the signer. Binding the transcript (which contains both
 *   ephemeral keys) ties the session keys to the node key; the role byte stops a
 *   signature from being reflected back.
 *
 * The first frame from the peer must be a valid auth frame (else EF_NR_BAD_AUTH);
 * only then are other frames delivered.
 *
 * Before the peer has proven its key (hello and auth frame), nothing larger than
 * the handshake is buffered: the session holds at most EF_PREAUTH_BUF bytes of
 * the peer's in a fixed array inside ef_sess and allocates nothing. The auth
 * frame's length prefix must be exactly EF_AUTH_FRAME_N: a prefix announcing more
 * closes the connection at once (EF_NR_PREAUTH_OVERSIZE), before any of the
 * announced bytes are read; less is EF_NR_BAD_AUTH (EF_NR_MALFORMED under 17).
 * Presenting a validator's public key in the hello (they are public, in the
 * genesis) therefore buys an attacker 101 + 85 bytes, not a 4 MiB frame.
 *
 *   frame
 *   offset size  meaning
 *   0      4     u32 LE n, the ciphertext length, 17 <= n <= EF_FRAME_MAX
 *                (n > EF_FRAME_MAX: EF_NR_OVERSIZE; n < 17: EF_NR_MALFORMED)
 *   4      n     XChaCha20-Poly1305 (IETF) of the plaintext; additional data = the
 *                4 length bytes; nonce = the u64 LE frame counter of this
 *                direction (0, 1, 2, ...) padded with zeros to 24 bytes. A frame
 *                that does not open: EF_NR_BAD_MAC.
 *
 *   plaintext: u8 message type (EF_P2P_*), then the payload (n - 17 bytes).
 *
 * Message types and payloads (the codec of ef_codec.h):
 *   type  name          payload
 *   1     AUTH          sig raw[64] (handshake only)
 *   2     STATUS        u64 height (last committed), raw[32] hash of that block
 *   3     TXS           u32 count (<= EF_TXS_BATCH_MAX), count x bytes (an encoded tx)
 *   4     CONSENSUS     an engine message (consensus/ef_msg.h encoding)
 *   5     BLOCK_REQ     u64 first height, u32 count (<= EF_BLOCK_REQ_MAX)
 *   6     BLOCK         u64 height, bytes block (ledger/ef_block.h), bytes certificate
 *                       (ledger/ef_cert.h)
 * The session layer checks only the type byte is known; the node decodes payloads.
 * Any error closes the connection; the reason is counted (ef_net_reason).
 *
 * Threading: a session is used by one thread.
 */
#ifndef EF_WIRE_H
#define EF_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"

#define EF_WIRE_VERSION 1
#define EF_HELLO_SIZE 101
#define EF_FRAME_MAX ((4u << 20) + (128u << 10)) /* ciphertext bytes: a 4 MiB block + cert */
#define EF_FRAME_OVERHEAD (4 + 16)       /* length prefix + Poly1305 tag */
#define EF_AUTH_FRAME_N (1 + 64 + 16)    /* ciphertext length of the auth frame: type, sig, tag */
/* bytes of the peer's a session holds before auth: the hello, then the auth frame */
#define EF_PREAUTH_BUF (EF_HELLO_SIZE > 4 + EF_AUTH_FRAME_N ? EF_HELLO_SIZE : 4 + EF_AUTH_FRAME_N)
#define EF_P2P_PAYLOAD_MAX (EF_FRAME_MAX - 17)
#define EF_TXS_BATCH_MAX 4096            /* transactions in one TXS message */
#define EF_BLOCK_REQ_MAX 64              /* blocks asked for in one BLOCK_REQ */

enum {
    EF_P2P_AUTH = 1,
    EF_P2P_STATUS = 2,
    EF_P2P_TXS = 3,
    EF_P2P_CONSENSUS = 4,
    EF_P2P_BLOCK_REQ = 5,
    EF_P2P_BLOCK = 6,
    EF_P2P_TYPE_MAX_ = 6,
};

/* Why a connection was refused or closed; counted per node. */
typedef enum ef_net_reason {
    EF_NR_MALFORMED = 0,     /* bad hello, short frame, unknown type, bad payload */
    EF_NR_OVERSIZE,          /* frame length over EF_FRAME_MAX */
    EF_NR_BAD_MAC,           /* frame does not authenticate */
    EF_NR_UNKNOWN_KEY,       /* node key neither a validator nor a configured observer */
    EF_NR_BAD_AUTH,          /* handshake signature wrong or missing */
    EF_NR_WRONG_NET,         /* other chain or protocol version */
    EF_NR_TIMEOUT,           /* an authenticated peer silent too long */
    EF_NR_SENDQ_FULL,        /* peer too slow: its send queue overflowed */
    EF_NR_REJECTED,          /* the node rejected a message (bad signature, not allowed) */
    EF_NR_IO,                /* socket error or EOF */
    EF_NR_DUPLICATE,         /* second connection to the same peer */
    EF_NR_TOO_MANY,          /* over EF_NET_CONNS_MAX open connections */
    EF_NR_PREAUTH_OVERSIZE,  /* before auth, a frame announced longer than the auth frame */
    EF_NR_HS_TIMEOUT,        /* handshake not finished within the deadline */
    EF_NR_PREAUTH_LIMIT,     /* too many unauthenticated connections (per address, or in all) */
    EF_NR_COUNT_
} ef_net_reason;

const char *ef_net_reason_name(int reason);

typedef enum { EF_SESS_HELLO = 0, EF_SESS_AUTH, EF_SESS_OPEN, EF_SESS_DEAD } ef_sess_state;

/* Callbacks of ef_sess_feed. */
typedef struct ef_sess_ops {
    /* The peer's node key from its hello: 0 to accept, EF_EAUTH to refuse. */
    int (*allow)(void *arg, const ef_pub *peer);
    /* An authenticated message (never AUTH). The payload is borrowed until the
     * call returns. Return 0, or a negative code to close (counted EF_NR_REJECTED,
     * or EF_NR_MALFORMED if the code is a decoding error). */
    int (*on_msg)(void *arg, uint8_t type, const uint8_t *payload, size_t len);
} ef_sess_ops;

typedef struct ef_sess {
    const ef_keypair *kp;            /* borrowed node key */
    bool dialer;
    ef_sess_state state;
    int fail_reason;                 /* ef_net_reason once state == DEAD */
    ef_hash netid;
    uint8_t eph_pk[32], eph_sk[32];
    uint8_t my_hello[EF_HELLO_SIZE];
    uint8_t peer_hello[EF_HELLO_SIZE];
    uint8_t rx_key[32], tx_key[32];
    uint64_t rx_ctr, tx_ctr;
    ef_pub peer;                     /* valid from state AUTH on */
    uint8_t pre[EF_PREAUTH_BUF];     /* before auth: the peer's hello or auth frame so far */
    size_t pre_len;
    uint8_t *buf;                    /* once open: received bytes not yet consumed */
    size_t len, cap;
    uint8_t *plain;                  /* scratch for opened frames */
    size_t plain_cap;
} ef_sess;

/* Network id for a chain: BLAKE2b(EF_TAG_HANDSHAKE || chain_id). */
void ef_wire_netid(ef_hash *out, const char *chain_id);

/* Starts a session and writes our hello to out (append). kp is borrowed for the
 * session's life. Returns 0 or EF_ENOMEM. */
int ef_sess_init(ef_sess *s, const ef_keypair *kp, const ef_hash *netid, bool dialer, ef_wr *out);
void ef_sess_free(ef_sess *s);

/* Feeds received bytes. Appends anything to send (the auth frame) to out, calls
 * ops for the peer key and each message. Returns 0, or a negative code after
 * which the session is DEAD and s->fail_reason says why; the caller closes. */
int ef_sess_feed(ef_sess *s, const uint8_t *data, size_t len, const ef_sess_ops *ops,
                 void *arg, ef_wr *out);

/* Appends one sealed frame with type and payload to out. The session must be
 * past the hello (state AUTH or OPEN). EF_ETOOBIG if len > EF_P2P_PAYLOAD_MAX. */
int ef_sess_seal(ef_sess *s, uint8_t type, const void *payload, size_t len, ef_wr *out);

/* true once both sides are authenticated (state OPEN). */
bool ef_sess_is_open(const ef_sess *s);

/* Received bytes the session holds, not yet consumed (at most EF_PREAUTH_BUF
 * before the session is open). */
size_t ef_sess_buffered(const ef_sess *s);
/* Heap bytes the session holds (0 before it is open). */
size_t ef_sess_heap(const ef_sess *s);

#endif
