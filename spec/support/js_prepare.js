// Test helper for spec/js_conformance_spec.lua: the requests the AWS SDK for
// JavaScript v3 (@aws-sdk/client-connect, installed by `make js-conformance`
// under build/js) makes for given inputs. Nothing is sent: the client's
// requestHandler records the HttpRequest and answers a canned 200 "{}".
//
//   node spec/support/js_prepare.js build/js inputs.json > requests.json
//
// inputs.json: [{"id": any, "operation": "DescribeUser", "input": {...AWS member names...}}]
// where a timestamp is {"$epoch": seconds} (made a Date here). Prints
// [{"id", "operation", "method", "path", "query": [[key, value]...] sorted (decoded),
//   "headers": {lower-case name: value}, "body": text or null, "error"}].
// Fixed credentials, region and endpoint http://127.0.0.1:1.

"use strict";

const path = require("path");
const fs = require("fs");
const { Readable } = require("stream");

process.removeAllListeners("warning");

const dir = process.argv[2];
const inputs = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const C = require(path.resolve(dir, "node_modules/@aws-sdk/client-connect"));

function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$epoch") return new Date(v.$epoch * 1000);
    const out = {};
    for (const k of keys) out[k] = revive(v[k]);
    return out;
  }
  return v;
}

let last = null;
const requestHandler = {
  handle: async (req) => {
    last = req;
    return {
      response: {
        statusCode: 200,
        headers: { "content-type": "application/json", "x-amzn-requestid": "js" },
        body: Readable.from([Buffer.from("{}")]),
      },
    };
  },
  updateHttpClientConfig() {},
  httpHandlerConfigs() { return {}; },
};

const client = new C.ConnectClient({
  region: "us-east-1",
  endpoint: "http://127.0.0.1:1",
  credentials: { accessKeyId: "AKIDFAKE", secretAccessKey: "secret" },
  requestHandler,
  maxAttempts: 1,
});

function bodyText(body) {
  if (body === undefined || body === null) return null;
  if (typeof body === "string") return body;
  // a Uint8Array (the SDK's JSON adapter warns when its string methods are used)
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}

function queryPairs(q) {
  const out = [];
  for (const k of Object.keys(q || {})) {
    const v = q[k];
    if (Array.isArray(v)) for (const x of v) out.push([k, String(x)]);
    else if (v !== null && v !== undefined) out.push([k, String(v)]);
  }
  out.sort((a, b) => (a[0] + "=" + a[1] < b[0] + "=" + b[1] ? -1 : a[0] + "=" + a[1] > b[0] + "=" + b[1] ? 1 : 0));
  return out;
}

(async () => {
  const results = [];
  for (const item of inputs) {
    const r = { id: item.id, operation: item.operation };
    const Command = C[item.operation + "Command"];
    last = null;
    if (!Command) {
      r.error = "no command " + item.operation + "Command";
    } else {
      try {
        await client.send(new Command(revive(item.input)));
      } catch (e) {
        // the canned answer may not parse for every output; the request is what counts
        if (!last) r.error = String(e && e.message || e);
      }
      if (last) {
        r.method = last.method;
        r.path = last.path;
        r.query = queryPairs(last.query);
        r.headers = {};
        for (const k of Object.keys(last.headers || {})) r.headers[k.toLowerCase()] = String(last.headers[k]);
        r.body = bodyText(last.body);
      }
    }
    results.push(r);
  }
  process.stdout.write(JSON.stringify(results));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(1);
});
