// events_resume_test.mjs: the npm EventSource client (package eventsource) follows
// GET /events of a real node through a TCP proxy that cuts the connection in the
// middle of the stream, at a random byte, several times; EventSource reconnects by
// itself with Last-Event-ID, and what it received equals exactly the messages of
// the committed blocks (rebuilt from GET /blocks/{h}): no gap, no duplicate, every
// message with an id. Run by tests/integration/api_events_resume.sh.
//   EF_API_URL  the node's API, EF_FROM first height, EF_UNTIL last height compared,
//   EF_CUTS     how many cuts (default 6), EF_SEED the cut positions' seed
import net from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { EventSource } from 'eventsource';

const api = new URL(process.env.EF_API_URL);
const FROM = Number(process.env.EF_FROM || 1);
const UNTIL = Number(process.env.EF_UNTIL);
const CUTS = Number(process.env.EF_CUTS || 6);
let seed = Number(process.env.EF_SEED || Date.now() % 100000);
console.log(`events_resume: heights ${FROM}..${UNTIL}, ${CUTS} cuts, seed ${seed}`);
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
if (!(UNTIL >= FROM)) throw new Error('EF_UNTIL must be >= EF_FROM');

// ---- the proxy: each response is cut after a random number of bytes, CUTS times
let cuts = 0;
const resumeIds = [];              // the last id the client had when it reconnected
let lastId = '';
const proxy = net.createServer((client) => {
  const up = net.connect(Number(api.port), api.hostname);
  const cutAt = cuts < CUTS ? 600 + Math.floor(rand() * 20000) : Infinity;
  let sent = 0;
  client.on('data', (d) => up.write(d));
  up.on('data', (d) => {
    if (sent + d.length < cutAt) {
      sent += d.length;
      client.write(d);
      return;
    }
    client.write(d.subarray(0, cutAt - sent));      // part of a message, then gone
    sent = cutAt;
    cuts++;
    client.destroy();
    up.destroy();
  });
  const end = () => { client.destroy(); up.destroy(); };
  client.on('error', end); up.on('error', end); client.on('close', end); up.on('close', end);
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${proxy.address().port}/events?from=${FROM}`;

// ---- the client
const got = [];
let opens = 0;
await new Promise((resolve, reject) => {
  const es = new EventSource(url);
  const timer = setTimeout(() => { es.close(); reject(new Error(`timed out with ${got.length} messages`)); }, 150000);
  es.onopen = () => { if (opens++) resumeIds.push(lastId); };   // a reconnect, with Last-Event-ID
  const on = (type) => (e) => {
    const data = JSON.parse(e.data);
    lastId = e.lastEventId;
    if (data.height > UNTIL) { clearTimeout(timer); es.close(); resolve(); return; }
    got.push({ type, id: e.lastEventId, data });
  };
  es.addEventListener('block', on('block'));
  es.addEventListener('event', on('event'));
});
proxy.close();

// ---- what the chain says
const want = [];
const lastPos = new Map();         // height -> last position in that block
for (let h = FROM; h <= UNTIL; h++) {
  const r = await fetch(`${api.origin}/blocks/${h}`);
  if (r.status !== 200) throw new Error(`GET /blocks/${h}: ${r.status}`);
  const b = await r.json();
  want.push({ type: 'block', id: `${h}:0`,
              data: { height: h, hash: b.hash, time_ms: b.time_ms, proposer: b.proposer, txs: b.txs.length } });
  let pos = 0;
  b.txs.forEach((tx, i) => {
    for (const ev of tx.events || []) {
      pos++;
      want.push({ type: 'event', id: `${h}:${pos}`,
                  data: { height: h, tx: tx.hash, index: i, contract: tx.contract, name: ev.name, data: ev.data } });
    }
  });
  lastPos.set(h, pos);
}

// ---- compare
const ids = new Set();
for (const m of got) {
  if (!m.id) throw new Error(`a ${m.type} message without an id: ${JSON.stringify(m.data)}`);
  if (ids.has(m.id)) throw new Error(`duplicate message ${m.id}`);
  ids.add(m.id);
}
for (let i = 0; i < Math.max(got.length, want.length); i++) {
  if (!isDeepStrictEqual(got[i], want[i]))
    throw new Error(`message ${i}: got ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`);
}
// some resumes must start inside a block, or resuming inside one went untested
const mid = resumeIds.filter((id) => {
  const [h, p] = id.split(':').map(Number);
  return id.includes(':') && h >= FROM && h <= UNTIL && p < lastPos.get(h);
});
console.log(`events_resume: ${got.length} messages over ${opens} connections, equal to the chain's; ` +
            `resumed after ids ${resumeIds.join(' ')} (${mid.length} inside a block)`);
if (cuts < CUTS || opens < CUTS + 1) throw new Error(`only ${cuts} cuts, ${opens} connections`);
if (mid.length === 0) throw new Error('no cut landed inside a block; run again with another EF_SEED');
console.log('events_resume: ok');
