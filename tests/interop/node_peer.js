// The Node.js side of tests/interop/node_pq.py: Node 26 embeds OpenSSL
// 3.5, whose TLS speaks X25519MLKEM768 / SecP256r1MLKEM768 and whose
// crypto module has ML-KEM-768.  Modes (options as --name value):
//   server --cert F --key F [--groups G] [--ciphers S]
//       prints "listening PORT", echoes one connection, then exits
//   client --port N --ca F [--groups G] [--ciphers S] --payload TEXT
//       prints one JSON line: group, cipher, version, echo (or error)
//   mlkem-make --count N     key pairs and ciphertexts made here, as JSON
//   mlkem-check              reads JSON on stdin (see node_pq.py) and
//                            answers with what Node computes
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const tls = require('tls');

const mode = process.argv[2];
const opt = {};
for (let i = 3; i + 1 < process.argv.length; i += 2) {
  opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}

function tlsOptions() {
  const o = {minVersion: 'TLSv1.3'};
  if (opt.groups) o.ecdhCurve = opt.groups;
  if (opt.ciphers) o.ciphers = opt.ciphers;
  return o;
}

function server() {
  const o = tlsOptions();
  o.key = fs.readFileSync(opt.key);
  o.cert = fs.readFileSync(opt.cert);
  const srv = tls.createServer(o, (sock) => {
    sock.on('data', (d) => sock.write(d));
    sock.on('end', () => sock.end());
    sock.on('close', () => srv.close());
    sock.on('error', () => srv.close());
  });
  srv.on('tlsClientError', (err) => {
    console.log(JSON.stringify({error: err.message, code: err.code}));
    srv.close();
  });
  srv.listen(0, '127.0.0.1', () => {
    console.log('listening ' + srv.address().port);
  });
}

function client() {
  const o = tlsOptions();
  o.host = '127.0.0.1';
  o.port = Number(opt.port);
  o.servername = 'localhost';
  o.ca = fs.readFileSync(opt.ca);
  const payload = opt.payload || 'hello moat from node\n';
  const result = {};
  let echo = '';
  const sock = tls.connect(o, () => {
    const info = sock.getEphemeralKeyInfo() || {};
    result.group = info.name;
    result.cipher = sock.getCipher().name;
    result.version = sock.getProtocol();
    result.authorized = sock.authorized;
    sock.write(payload);
  });
  sock.on('data', (d) => {
    echo += d.toString();
    if (echo.length >= payload.length) {
      result.echo = echo;
      sock.end();
    }
  });
  sock.on('error', (err) => {
    result.error = err.message;
    result.code = err.code;
  });
  sock.on('close', () => {
    console.log(JSON.stringify(result));
    process.exit(result.error ? 1 : 0);
  });
}

// Raw key bytes out of Node's DER: the SubjectPublicKeyInfo ends with the
// 1184-byte encapsulation key, the PKCS#8 seed form with d || z.
const spkiPrefix = (k) => k.export({format: 'der', type: 'spki'})
                              .subarray(0, -1184);
const pkcs8Prefix = (k) => k.export({format: 'der', type: 'pkcs8'})
                                .subarray(0, -64);
const hex = (b) => Buffer.from(b).toString('hex');

function mlkemMake() {
  const out = [];
  for (let i = 0; i < Number(opt.count || 8); i++) {
    const {publicKey, privateKey} = crypto.generateKeyPairSync('ml-kem-768');
    const der = privateKey.export({format: 'der', type: 'pkcs8'});
    if (der.length !== pkcs8Prefix(privateKey).length + 64) {
      throw new Error('unexpected PKCS#8 form for ML-KEM-768');
    }
    const {sharedKey, ciphertext} = crypto.encapsulate(publicKey);
    const bad = Buffer.from(ciphertext);
    bad[i * 97 % bad.length] ^= 1 << (i % 8);
    out.push({
      seed: hex(der.subarray(-64)),
      ek: hex(publicKey.export({format: 'der', type: 'spki'}).subarray(-1184)),
      ct: hex(ciphertext),
      ss: hex(sharedKey),
      ct_bad: hex(bad),
      ss_bad: hex(crypto.decapsulate(privateKey, bad)),
    });
  }
  console.log(JSON.stringify(out));
}

// stdin: {"decaps": [{seed, ct}], "encaps": [{ek}]}; out: the secrets
// Node decapsulates, and a ciphertext and secret for each ek.
function mlkemCheck() {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const probe = crypto.generateKeyPairSync('ml-kem-768');
  const p8 = pkcs8Prefix(probe.privateKey);
  const spki = spkiPrefix(probe.publicKey);
  const res = {decaps: [], encaps: []};
  for (const d of req.decaps) {
    const key = crypto.createPrivateKey({
      key: Buffer.concat([p8, Buffer.from(d.seed, 'hex')]),
      format: 'der', type: 'pkcs8'});
    res.decaps.push(hex(crypto.decapsulate(key, Buffer.from(d.ct, 'hex'))));
  }
  for (const e of req.encaps) {
    const key = crypto.createPublicKey({
      key: Buffer.concat([spki, Buffer.from(e.ek, 'hex')]),
      format: 'der', type: 'spki'});
    const {sharedKey, ciphertext} = crypto.encapsulate(key);
    res.encaps.push({ct: hex(ciphertext), ss: hex(sharedKey)});
  }
  console.log(JSON.stringify(res));
}

({server, client, 'mlkem-make': mlkemMake, 'mlkem-check': mlkemCheck})[mode]();
