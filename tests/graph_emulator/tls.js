'use strict';
// Certificates via the openssl CLI: a CA, a server cert for 127.0.0.1/localhost, and a client
// certificate (RSA, for the certificate-credential JWT). Created once per state dir.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const crypto = require('crypto');

function ossl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ensureCerts(dir) {
  const p = (f) => path.join(dir, f);
  if (!fs.existsSync(p('ca.pem')) || !fs.existsSync(p('ca-key.pem'))) {
    ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=m365vault Graph emulator CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    for (const f of ['server.pem', 'server-key.pem']) fs.rmSync(p(f), { force: true });
  }
  if (!fs.existsSync(p('server.pem')) || !fs.existsSync(p('server-key.pem'))) {
    fs.writeFileSync(p('server-ext.cnf'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server-key.pem',
      '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    ossl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
      '-out', 'server.pem', '-days', '825', '-sha256', '-extfile', 'server-ext.cnf'], dir);
    fs.rmSync(p('server.csr'), { force: true });
  }
  if (!fs.existsSync(p('client.pem')) || !fs.existsSync(p('client-cert.pem'))) {
    ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client-key.pem', '-out', 'client-cert.pem',
      '-days', '3650', '-subj', '/CN=m365vault backup app'], dir);
    const key = fs.readFileSync(p('client-key.pem'), 'utf8');
    const cert = fs.readFileSync(p('client-cert.pem'), 'utf8');
    fs.writeFileSync(p('client.pem'), key + cert, { mode: 0o600 });
    fs.chmodSync(p('client-key.pem'), 0o600);
  }
  const clientCert = new crypto.X509Certificate(fs.readFileSync(p('client-cert.pem')));
  return {
    key: fs.readFileSync(p('server-key.pem')),
    cert: fs.readFileSync(p('server.pem')),
    ca: fs.readFileSync(p('ca.pem')),
    clientPublicKey: clientCert.publicKey,
    clientX5t: crypto.createHash('sha1').update(clientCert.raw).digest('base64url'),
    clientX5tS256: crypto.createHash('sha256').update(clientCert.raw).digest('base64url'),
  };
}

module.exports = { ensureCerts };
