'use strict';
// A minimal MongoDB wire client (OP_MSG, kind-0 body) for the stand-in's tools and tests:
// one connection, one command at a time. Not a driver.

const net = require('net');
const BSON = require('bson');

const DESERIALIZE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false };

class WireClient {
  constructor(socket) {
    this.socket = socket;
    this.requestID = 1;
    this.pending = new Map();
    this.buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      while (this.buf.length >= 4) {
        const len = this.buf.readInt32LE(0);
        if (this.buf.length < len) break;
        const msg = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        const responseTo = msg.readInt32LE(8);
        const doc = BSON.deserialize(msg.subarray(21), DESERIALIZE); // header 16 + flags 4 + kind 1
        const p = this.pending.get(responseTo);
        this.pending.delete(responseTo);
        if (p) p(doc);
      }
    });
  }

  /** connect(port[, host]), or connect(path) for a unix socket. */
  static connect(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const s = net.connect(typeof port === 'string' ? { path: port } : { port, host }, () => resolve(new WireClient(s)));
      s.on('error', reject);
      s.setNoDelay(true);
    });
  }

  /** Sends {command..., $db: db}; resolves with the reply document (ok: 0 included). */
  command(db, cmd) {
    const body = BSON.serialize({ ...cmd, $db: db }, { ignoreUndefined: true });
    const header = Buffer.alloc(21);
    const id = this.requestID++;
    header.writeInt32LE(21 + body.length, 0);
    header.writeInt32LE(id, 4);
    header.writeInt32LE(0, 8);
    header.writeInt32LE(2013, 12);
    header.writeUInt32LE(0, 16);
    header[20] = 0;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.write(Buffer.concat([header, body]));
    });
  }

  /** Runs a command and fails on ok: 0. */
  async run(db, cmd) {
    const r = await this.command(db, cmd);
    if (!r.ok || (r.ok.valueOf ? r.ok.valueOf() : r.ok) !== 1) {
      throw new Error(`${Object.keys(cmd)[0]} failed: ${r.errmsg} (${r.code})`);
    }
    return r;
  }

  close() { this.socket.destroy(); }
}

module.exports = { WireClient };
