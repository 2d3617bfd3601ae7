-- Tests for the fake Amazon Connect server itself (spec/support/fake_connect.py
-- and its Lua helper), independent of the aws_connect client code.
--
-- botocore (Debian's python3-botocore under /usr/bin/python3) is the
-- reference SigV4 signer; raw sockets (also from Python) observe the faults.

package.path = "./?.lua;" .. package.path

local fake = require("spec.support.fake_server")
local cjson = require("cjson")

local PY = fake.python

-- Python helper -------------------------------------------------------------
-- One long-lived /usr/bin/python3 process (botocore is slow to import): it
-- reads one JSON command per line on stdin and writes one JSON result per
-- line into a FIFO that we read.
--   {"kind":"sign", ...}: sends a list of requests over ONE connection
--     (keep-alive), each signed with botocore's SigV4Auth (timestamp
--     shiftable, signature corruptible).
--   {"kind":"raw", ...}: sends raw bytes on a fresh socket and records what
--     comes back (data, EOF, error class, timing).
local HELPER_PY = [==[
import sys, json, ssl, time, socket, datetime, urllib.parse, http.client
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

def do_sign(spec):
    u = urllib.parse.urlsplit(spec["endpoint"])
    host, port = u.hostname, u.port
    timeout = spec.get("timeout", 10)

    def connect():
        if u.scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=timeout, context=ssl._create_unverified_context())
        return http.client.HTTPConnection(host, port, timeout=timeout)

    conn = connect()
    out = []
    for r in spec["requests"]:
        method = r.get("method", "GET")
        path = r.get("path", "/instance")
        query = r.get("query", "")
        if r.get("params"):
            query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                        urllib.parse.quote(str(v), safe="-_.~"))
                             for k, v in r["params"])
        target = path + ("?" + query if query else "")
        body = (r.get("body") or "").encode("utf-8")
        headers = {"Host": "%s:%d" % (host, port)}
        if body:
            headers["Content-Type"] = "application/json"
        headers.update(r.get("headers") or {})
        req = AWSRequest(method=method, url=spec["endpoint"] + target, data=body,
                         headers=headers)
        if not r.get("unsigned"):
            creds = Credentials(r.get("access_key", spec["access_key"]),
                                r.get("secret_key", spec["secret_key"]),
                                r.get("token", spec.get("token")))
            auth = SigV4Auth(creds, r.get("service", "connect"),
                             r.get("region", spec["region"]))
            ts = datetime.datetime.utcnow() + datetime.timedelta(
                seconds=r.get("date_offset", 0))
            req.context["timestamp"] = ts.strftime("%Y%m%dT%H%M%SZ")
            auth._modify_request_before_signing(req)
            cr = auth.canonical_request(req)
            sig = auth.signature(auth.string_to_sign(req, cr), req)
            auth._inject_signature_to_request(req, sig)
            if r.get("corrupt_signature"):
                a = req.headers["Authorization"]
                a = a[:-1] + ("0" if a[-1] != "0" else "1")
                del req.headers["Authorization"]
                req.headers["Authorization"] = a
        t0 = time.monotonic()
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in req.headers.items():
                conn.putheader(k, v)
            if body or method in ("PUT", "POST", "DELETE"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            out.append({"status": resp.status, "headers": resp.getheaders(),
                        "body": data.decode("utf-8", "replace"),
                        "elapsed": time.monotonic() - t0})
        except Exception as exc:
            out.append({"error": type(exc).__name__, "detail": str(exc),
                        "elapsed": time.monotonic() - t0})
            conn.close()
            conn = connect()
    conn.close()
    return out

def do_raw(spec):
    s = socket.create_connection((spec["host"], spec["port"]),
                                 timeout=spec.get("timeout", 5))
    if spec.get("tls"):
        s = ssl._create_unverified_context().wrap_socket(
            s, server_hostname=spec["host"], suppress_ragged_eofs=False)
    t0 = time.monotonic()
    s.sendall(spec["data"].encode("latin-1"))
    data, chunks, err, eof, timed_out = b"", 0, None, False, False
    while True:
        try:
            c = s.recv(65536)
        except socket.timeout:
            timed_out = True
            break
        except OSError as e:
            err = type(e).__name__
            break
        if not c:
            eof = True
            break
        chunks += 1
        data += c
    s.close()
    return {"text": data.decode("latin-1"), "length": len(data),
            "starts_http": data.startswith(b"HTTP/"), "error": err,
            "eof": eof, "timed_out": timed_out, "chunks": chunks,
            "elapsed": time.monotonic() - t0}

out = open(sys.argv[1], "w")
for line in sys.stdin:
    if not line.strip():
        continue
    try:
        spec = json.loads(line)
        result = do_sign(spec) if spec["kind"] == "sign" else do_raw(spec)
    except Exception as exc:
        result = {"helper_error": "%s: %s" % (type(exc).__name__, exc)}
    out.write(json.dumps(result) + "\n")
    out.flush()
]==]

local function write_tmp(content)
  local name = os.tmpname()
  local f = assert(io.open(name, "wb"))
  f:write(content)
  f:close()
  return name
end

local helper = {}

function helper.start()
  helper.script = write_tmp(HELPER_PY)
  helper.fifo = os.tmpname()
  os.remove(helper.fifo)
  os.execute("mkfifo " .. fake.shell_quote(helper.fifo))
  helper.w = assert(io.popen(PY .. " " .. fake.shell_quote(helper.script) .. " "
    .. fake.shell_quote(helper.fifo), "w"))
  helper.r = assert(io.open(helper.fifo, "r"))
end

function helper.stop()
  if helper.w then helper.w:close() helper.w = nil end
  if helper.r then helper.r:close() helper.r = nil end
  if helper.fifo then os.remove(helper.fifo) end
  if helper.script then os.remove(helper.script) end
end

function helper.call(spec)
  helper.w:write(cjson.encode(spec), "\n")
  helper.w:flush()
  local line = helper.r:read("*l")
  if not line then error("python helper died", 2) end
  local result = fake.strip_nulls(cjson.decode(line))
  if result.helper_error then error("python helper: " .. result.helper_error, 2) end
  return result
end

-- Python one-offs: each prints one JSON document on stdout.
-- CONFORMANCE_PY SUPPORT_DIR PORT: every operation of the model, serialised,
-- signed and parsed by botocore (see "every operation of the model" below).
local CONFORMANCE_PY = [==[
import sys, json, random, time, http.client, datetime, subprocess, os
import urllib.parse as up
support, port = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, support)
from fake_connect import model as M, synth as Sy, validate as V
from botocore.model import ServiceModel
from botocore.serialize import create_serializer
from botocore.parsers import create_parser
from botocore.validate import ParamValidator
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

m = M.Model(M.find(support))
raw_model = json.load(open(m.path))
sm = ServiceModel(raw_model, "connect")
ser = create_serializer("rest-json", include_validation=False)
parser = create_parser("rest-json")
syn = Sy.Synth(m)
creds = Credentials("AKIDFAKE", "secret")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
host = "127.0.0.1:%d" % port

def to_botocore(shape_name, v):
    s = m.shapes[shape_name]; t = s["type"]
    if t == "structure":
        return {k: to_botocore(s["members"][k]["shape"], x) for k, x in v.items()}
    if t == "list":
        return [to_botocore(s["member"]["shape"], x) for x in v]
    if t == "map":
        return {k: to_botocore(s["value"]["shape"], x) for k, x in v.items()}
    if t == "timestamp" and isinstance(v, (int, float)):
        return datetime.datetime.fromtimestamp(v, datetime.timezone.utc)
    return v

def send(op, params):
    om = sm.operation_model(op)
    req = ser.serialize_to_request(params, om)
    qs = up.urlencode(req["query_string"], doseq=True, quote_via=up.quote, safe="-_.~") \
        if req["query_string"] else ""
    url = "http://" + host + req["url_path"] + ("?" + qs if qs else "")
    aws = AWSRequest(method=req["method"], url=url, data=req["body"], headers=dict(req["headers"]))
    aws.headers["Host"] = host
    SigV4Auth(creds, "connect", "us-east-1").add_auth(aws)
    p = aws.prepare()
    body = p.body or b""
    if isinstance(body, str):
        body = body.encode()
    conn.request(p.method, p.url[len("http://" + host):], body=body, headers=dict(p.headers))
    r = conn.getresponse()
    data = r.read()
    return r, data, om

def valid_input(op):
    ishape = m.input_shape(op)
    if not ishape:
        return {}
    ctx = Sy._Ctx(random.Random(op), {}, "us-east-1", "123456789012")
    params = syn._structure(ishape, None, 0, (), ctx, top=True)
    if op == "CreateInstance":
        params["IdentityManagementType"] = "CONNECT_MANAGED"
        params.pop("DirectoryId", None)
    return params

report = {"n": 0, "status": {}, "bad_output": {}, "invalid_answers": {}, "invalid_checked": 0}
for op in sorted(m.operations):
    params = valid_input(op)
    r, data, om = send(op, to_botocore(m.input_shape(op), params) if params else {})
    report["n"] += 1
    report["status"][op] = r.status
    if r.status == 200 and om.output_shape is not None:
        problems = []
        try:
            parsed = parser.parse({"status_code": r.status, "headers": dict(r.getheaders()),
                                   "body": data}, om.output_shape)
            parsed.pop("ResponseMetadata", None)
            rep = ParamValidator().validate(parsed, om.output_shape)
            if rep.has_errors():
                problems.append(rep.generate_report())
        except Exception as exc:
            problems.append("botocore: %r" % exc)
        doc = json.loads(data) if data else {}
        errs = []
        V.validate(m.shapes, m.output_shape(op), doc, "", errs)
        problems += errs
        if problems:
            report["bad_output"][op] = problems[:3]
    # invalid: drop one required non-label member
    ishape = m.input_shape(op)
    if ishape:
        sh = m.shapes[ishape]
        req = [k for k in sh.get("required", []) if sh["members"][k].get("location") != "uri"]
        if req:
            bad = dict(params)
            bad.pop(req[0], None)
            r, data, om = send(op, to_botocore(ishape, bad))
            names = [e["shape"] for e in raw_model["operations"][op]["errors"]]
            want = "InvalidRequestException" if "InvalidRequestException" in names \
                else "InvalidParameterException"
            got = r.getheader("x-amzn-ErrorType")
            report["invalid_checked"] += 1
            if r.status != 400 or got != want:
                report["invalid_answers"][op] = [r.status, got, want]
print(json.dumps(report))
]==]

-- STARTUP_PY SCRIPT: time from spawning the fake to its LISTENING line.
local STARTUP_PY = [==[
import sys, json, os, select, subprocess, time
script = sys.argv[1]
t0 = time.monotonic()
p = subprocess.Popen(["/usr/bin/python3", script, "--port", "0", "--parent-pid", str(os.getpid())],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
line = b""
try:
    if select.select([p.stdout], [], [], 10)[0]:
        line = p.stdout.readline()
    seconds = time.monotonic() - t0
finally:
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
print(json.dumps({"listening": line.startswith(b"LISTENING "), "seconds": seconds}))
]==]

-- WIRE_PY SUPPORT_DIR: the querystring/header decoder, header-bound output
-- members and "?" requestUri templates, on a toy model (the Connect model
-- has no boolean or timestamp querystring member, no header-bound output
-- and no "?" template yet).
local WIRE_PY = [==[
import sys, json
sys.path.insert(0, sys.argv[1])
from fake_connect import wire, model
shapes = {"B": {"type": "boolean"}, "T": {"type": "timestamp"}, "I": {"type": "integer"},
          "S": {"type": "string"},
          "Out": {"type": "structure", "members": {
              "Flag": {"shape": "B", "location": "header", "locationName": "x-amz-flag"},
              "When": {"shape": "T", "location": "header", "locationName": "x-amz-when"},
              "Name": {"shape": "S", "locationName": "name"}}}}
q = lambda s, t: wire.scalar_from_text(shapes, s, t, "querystring")
h = lambda s, t: wire.scalar_from_text(shapes, s, t, "header")
headers, body = wire.serialize_output(shapes, "Out", {"Flag": True, "When": 1700000000, "Name": "n"})
route = model.Route("GetReport", "/things/{Id}?type=report")
print(json.dumps({
    "decoded": [q("B", "true"), q("B", "false"), q("B", "yes"),
                q("T", "2023-11-14T22:13:20Z"), q("T", "2023-11-14T22:13:20.5Z"),
                h("T", "Tue, 14 Nov 2023 22:13:20 GMT"), h("T", "soon"),
                q("I", "42"), q("I", "4x2")],
    "headers": headers, "body": body.decode(),
    "route": [route.match(["things", "a%2Fb"], [("type", "report")]),
              route.match(["things", "a"], [("type", "other")]),
              route.match(["things", "a"], [])]}))
]==]

local support_dir = fake.script:match("^(.*)/[^/]*$") or "."

local function run_py(source, args)
  local file = write_tmp(source)
  local cmd = { PY, fake.shell_quote(file) }
  for _, a in ipairs(args or {}) do cmd[#cmd + 1] = fake.shell_quote(a) end
  local p = assert(io.popen(table.concat(cmd, " ") .. " 2>&1", "r"))
  local out = p:read("*a")
  p:close()
  os.remove(file)
  local ok, decoded = pcall(cjson.decode, out:match("([^\n]*)\n?$") or "")
  if not ok then error("python one-off failed:\n" .. out, 2) end
  return fake.strip_nulls(decoded)
end

-- Signed requests over one connection; returns a list of responses.
local function send(srv, requests, creds)
  creds = creds or {}
  return helper.call{
    kind = "sign",
    endpoint = srv.endpoint,
    access_key = creds.access_key or srv.access_key,
    secret_key = creds.secret_key or srv.secret_key,
    token = creds.token or srv.session_token,
    region = creds.region or srv.region,
    requests = requests,
  }
end

local function send1(srv, request, creds)
  local r = send(srv, { request }, creds)[1]
  if r.body and r.body ~= "" then
    local ok, decoded = pcall(cjson.decode, r.body)
    if ok then r.json = fake.strip_nulls(decoded) end
  end
  return r
end

local function raw(srv, data, opts)
  opts = opts or {}
  return helper.call{
    kind = "raw", host = "127.0.0.1", port = srv.port, data = data, tls = srv.tls,
    timeout = opts.timeout or 5,
  }
end

local function raw_get(srv, path)
  return "GET " .. (path or "/instance") .. " HTTP/1.1\r\nHost: 127.0.0.1:"
    .. srv.port .. "\r\nConnection: close\r\n\r\n"
end

local function header(resp, name)
  name = name:lower()
  for _, kv in ipairs(resp.headers or {}) do
    if kv[1]:lower() == name then return kv[2] end
  end
  return nil
end

local function create_body(t)
  local b = {
    IdentityManagementType = "CONNECT_MANAGED",
    InstanceAlias = "alias-" .. tostring(math.random(1, 1e9)),
    InboundCallsEnabled = true,
    OutboundCallsEnabled = false,
  }
  for k, v in pairs(t or {}) do
    if v == cjson.null then b[k] = nil else b[k] = v end
  end
  return cjson.encode(b)
end

local function create(srv, fields, creds)
  return send1(srv, { method = "PUT", path = "/instance", body = create_body(fields) }, creds)
end

local function describe_instance(srv, id)
  return send1(srv, { method = "GET", path = "/instance/" .. id })
end

local function wait_status(srv, id, want, seconds)
  local last
  for _ = 1, math.floor((seconds or 3) / 0.05) do
    last = describe_instance(srv, id)
    if last.json and last.json.Instance.InstanceStatus == want then return last end
    fake.sleep(0.05)
  end
  return last
end

math.randomseed(os.time())

describe("fake Connect server", function()
  local srv

  setup(function()
    helper.start()
    srv = fake.start{ access_key = "AKIDFAKE", secret_key = "secret",
                      region = "us-east-1", create_delay = 0.3, quota = 10 }
  end)

  teardown(function()
    if srv then srv:stop() end
    helper.stop()
  end)

  before_each(function()
    srv:reset()
  end)

  describe("lifecycle", function()
    it("starts on an OS-chosen port and stops by pid (idempotently)", function()
      local s = fake.start{ create_delay = 0 }
      finally(function() s:stop() end)
      assert.is_number(s.port)
      assert.is_true(s.port > 0)
      assert.are.equal("http://127.0.0.1:" .. s.port, s.endpoint)
      assert.is_true(fake.pid_alive(s.pid))
      assert.is_truthy(s:log():match("LISTENING " .. s.port))
      assert.are.equal(true, s:reset().ok)
      s:stop()
      assert.is_false(fake.pid_alive(s.pid))
      s:stop() -- idempotent
      assert.is_false(fake.pid_alive(s.pid))
    end)

    it("raises with the log when the server cannot start", function()
      local ok, err = pcall(fake.start, { tls_cert = "/nonexistent/cert.pem",
                                          tls_key = "/nonexistent/key.pem" })
      assert.is_false(ok)
      assert.is_truthy(tostring(err):match("did not report LISTENING"))
      assert.is_truthy(tostring(err):match("nonexistent"))
    end)

    it("exits by itself when the parent pid disappears", function()
      local exe = io.popen("readlink /proc/" .. fake.own_pid() .. "/exe"):read("*l")
      -- under valgrind (make test-valgrind) the process image is the tool's
      if exe:find("valgrind", 1, true) or exe:find("memcheck", 1, true) then exe = os.getenv("AWSC_LUA") or "lua5.4" end
      local code = 'package.path="./?.lua;"..package.path '
        .. 'local s=require("spec.support.fake_server").start{} print(s.pid, s.log_file)'
      local p = io.popen(fake.shell_quote(exe) .. " -e " .. fake.shell_quote(code))
      local pid, log_file = p:read("*a"):match("(%d+)%s+(%S+)")
      p:close()
      pid = tonumber(pid)
      assert.is_number(pid)
      finally(function()
        os.execute("kill -KILL " .. pid .. " 2>/dev/null")
        os.remove(log_file)
      end)
      local gone = false
      for _ = 1, 60 do
        if not fake.pid_alive(pid) then gone = true break end
        fake.sleep(0.05)
      end
      assert.is_true(gone)
    end)

    it("exits on SIGINT", function()
      local s = fake.start{}
      finally(function() s:stop() end)
      os.execute("kill -INT " .. s.pid)
      local gone = false
      for _ = 1, 60 do
        if not s:alive() then gone = true break end
        fake.sleep(0.05)
      end
      assert.is_true(gone)
    end)
  end)

  describe("control API", function()
    it("reports and merges config, rejects unknown keys, reset restores", function()
      local c = srv:config()
      assert.are.equal(0.3, c.create_delay)
      assert.are.equal(10, c.quota)
      assert.are.equal("AKIDFAKE", c.access_key)
      assert.is_nil(c.secret_key)
      c = srv:config{ clock_offset = 600, quota = 3, fail_next_create = "boom" }
      assert.are.equal(600, c.clock_offset)
      assert.are.equal(3, c.quota)
      assert.are.equal("boom", c.fail_next_create)
      assert.are.equal(0.3, c.create_delay)
      local code = srv:control("POST", "/_fake/config", { no_such_key = 1 })
      assert.are.equal(400, code)
      srv:reset()
      c = srv:config()
      assert.are.equal(0, c.clock_offset)
      assert.are.equal(10, c.quota)
      assert.is_nil(c.fail_next_create)
    end)

    it("logs service requests but not control requests; reset clears all", function()
      assert.are.same({}, srv:requests())
      create(srv)
      srv:script{ { status = 503 } }
      srv:config{ quota = 5 }
      local reqs = srv:requests()
      assert.are.equal(1, #reqs)
      local r = reqs[1]
      assert.are.equal("PUT", r.method)
      assert.are.equal("/instance", r.path)
      assert.are.equal("", r.query)
      assert.is_true(r.signature_valid)
      assert.is_nil(r.signature_error)
      assert.is_number(r.time)
      assert.is_number(r.connection)
      assert.are.equal(200, r.outcome)
      assert.is_truthy(r.body:match('"IdentityManagementType"'))
      local names = {}
      for i, kv in ipairs(r.headers) do names[i] = kv[1]:lower() end
      assert.is_truthy(table.concat(names, ","):match("authorization"))
      assert.are.equal(1, #srv:instances())
      srv:reset()
      assert.are.same({}, srv:requests())
      assert.are.same({}, srv:instances())
      assert.are.equal(10, srv:config().quota)
      -- the scripted 503 was dropped by reset
      assert.are.equal(200, create(srv).status)
    end)

    it("lists instances with internal fields", function()
      create(srv, { ClientToken = "tok-123", InstanceAlias = "listed" })
      local insts = srv:instances()
      assert.are.equal(1, #insts)
      assert.are.equal("tok-123", insts[1].ClientToken)
      assert.are.equal("listed", insts[1].InstanceAlias)
      assert.are.equal("CREATION_IN_PROGRESS", insts[1].InstanceStatus)
    end)

    it("rejects unknown control paths and malformed script items", function()
      assert.are.equal(404, (srv:control("GET", "/_fake/nope")))
      assert.are.equal(400, (srv:control("POST", "/_fake/script",
        { responses = { { fault = "explode" } } })))
      assert.are.equal(200, (srv:control("POST", "/_fake/script", { responses = {} })))
    end)
  end)

  describe("SigV4 verification (botocore as reference signer)", function()
    it("accepts a correctly signed CreateInstance and rejects a one-byte change", function()
      local body = create_body{ InstanceAlias = "signed-ok" }
      local res = send(srv, {
        { method = "PUT", path = "/instance", body = body },
        { method = "PUT", path = "/instance", body = create_body{ InstanceAlias = "signed-bad" },
          corrupt_signature = true },
      })
      assert.are.equal(200, res[1].status)
      local j = cjson.decode(res[1].body)
      assert.is_string(j.Id)
      assert.are.equal("arn:aws:connect:us-east-1:123456789012:instance/" .. j.Id, j.Arn)
      assert.are.equal(403, res[2].status)
      assert.are.equal("InvalidSignatureException", header(res[2], "x-amzn-ErrorType"))
      assert.is_truthy(cjson.decode(res[2].body).message:match("signature we calculated does not match"))
      local reqs = srv:requests()
      assert.is_true(reqs[1].signature_valid)
      assert.is_false(reqs[2].signature_valid)
      assert.is_truthy(reqs[2].signature_error:match("^InvalidSignatureException"))
      -- the rejected request did not create anything
      assert.are.equal(1, #srv:instances())
    end)

    it("verifies GET with a percent-encoded path and DELETE with a query", function()
      local r = send1(srv, { method = "GET", path = "/instance/a%3Ab%20c" })
      assert.are.equal(404, r.status)
      assert.are.equal("ResourceNotFoundException", header(r, "x-amzn-ErrorType"))
      assert.is_truthy(r.json.message:match("a:b c"))
      r = send1(srv, { method = "DELETE", path = "/instance/x",
                       params = { { "clientToken", "a b+c/d=" } } })
      assert.are.equal(404, r.status)
      assert.are.equal(true, srv:requests()[2].signature_valid)
    end)

    it("answers MissingAuthenticationTokenException without Authorization", function()
      local r = send1(srv, { method = "GET", path = "/instance", unsigned = true })
      assert.are.equal(403, r.status)
      assert.are.equal("MissingAuthenticationTokenException", header(r, "x-amzn-ErrorType"))
    end)

    it("answers UnrecognizedClientException for an unknown access key", function()
      local r = send1(srv, { method = "GET", path = "/instance" }, { access_key = "AKIDOTHER" })
      assert.are.equal(403, r.status)
      assert.are.equal("UnrecognizedClientException", header(r, "x-amzn-ErrorType"))
      assert.are.equal("The security token included in the request is invalid.", r.json.message)
    end)

    it("rejects a wrong secret, region or service scope", function()
      local r = send1(srv, { method = "GET" }, { secret_key = "wrong" })
      assert.are.equal("InvalidSignatureException", header(r, "x-amzn-ErrorType"))
      r = send1(srv, { method = "GET" }, { region = "eu-west-1" })
      assert.are.equal(403, r.status)
      assert.are.equal("InvalidSignatureException", header(r, "x-amzn-ErrorType"))
      assert.is_truthy(r.json.message:match("eu%-west%-1"))
      r = send1(srv, { method = "GET", service = "s3" })
      assert.are.equal("InvalidSignatureException", header(r, "x-amzn-ErrorType"))
    end)

    it("enforces the clock-skew window against server time (with offset)", function()
      srv:config{ clock_offset = 600 }
      local r = send1(srv, { method = "GET" })
      assert.are.equal(403, r.status)
      assert.are.equal("InvalidSignatureException", header(r, "x-amzn-ErrorType"))
      assert.is_truthy(r.json.message:match("^Signature expired: %d+T%d+Z is now earlier than"))
      -- the Date header carries the server's (offset) clock
      local date = header(r, "Date")
      assert.is_truthy(date:match("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$"))
      -- a client that corrects its clock by the offset succeeds
      r = send1(srv, { method = "GET", date_offset = 600 })
      assert.are.equal(200, r.status)
      srv:config{ clock_offset = -600 }
      r = send1(srv, { method = "GET" })
      assert.are.equal(403, r.status)
      assert.is_truthy(r.json.message:match("^Signature not yet current"))
      srv:config{ clock_offset = 0, max_skew = 30 }
      assert.are.equal(403, send1(srv, { method = "GET", date_offset = 60 }).status)
      assert.are.equal(200, send1(srv, { method = "GET", date_offset = 20 }).status)
    end)

    it("checks a signed x-amz-content-sha256 against the body", function()
      local body = create_body()
      local r = send1(srv, { method = "PUT", path = "/instance", body = body,
                             headers = { ["X-Amz-Content-SHA256"] = string.rep("0", 64) } })
      assert.are.equal(403, r.status)
      assert.are.equal("InvalidSignatureException", header(r, "x-amzn-ErrorType"))
      assert.are.equal(0, #srv:instances())
    end)

    it("requires the configured session token, signed", function()
      local s = fake.start{ session_token = "TOKEN/abc+=" }
      finally(function() s:stop() end)
      local r = send1(s, { method = "GET" })
      assert.are.equal(200, r.status)
      local hdrs = s:requests()[1].headers
      local seen
      for _, kv in ipairs(hdrs) do
        if kv[1]:lower() == "x-amz-security-token" then seen = kv[2] end
      end
      assert.are.equal("TOKEN/abc+=", seen)
      r = send1(s, { method = "GET" }, { token = "other" })
      assert.are.equal("UnrecognizedClientException", header(r, "x-amzn-ErrorType"))
      -- no token at all
      s:config{ session_token = cjson.null }
      r = send1(s, { method = "GET" })
      assert.are.equal("UnrecognizedClientException", header(r, "x-amzn-ErrorType"))
      s:reset() -- back to the command-line token
      assert.are.equal(200, send1(s, { method = "GET" }).status)
    end)

    it("keeps the connection alive across requests", function()
      local res = send(srv, { { method = "GET" }, { method = "GET" }, { method = "GET" } })
      for i = 1, 3 do assert.are.equal(200, res[i].status) end
      local reqs = srv:requests()
      assert.are.equal(3, #reqs)
      assert.are.equal(reqs[1].connection, reqs[2].connection)
      assert.are.equal(reqs[1].connection, reqs[3].connection)
    end)
  end)

  describe("service behaviour", function()
    it("sets the standard response headers on success and error", function()
      local res = send(srv, { { method = "GET" }, { method = "GET", path = "/instance/nope" } })
      for _, r in ipairs(res) do
        assert.is_truthy(header(r, "x-amzn-RequestId"):match(
          "^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"))
        assert.is_string(header(r, "Date"))
        assert.are.equal("application/json", header(r, "Content-Type"))
        assert.are.equal(tostring(#r.body), header(r, "Content-Length"))
      end
      assert.are.equal("ResourceNotFoundException", header(res[2], "x-amzn-ErrorType"))
    end)

    it("creates, describes and moves CREATION_IN_PROGRESS -> ACTIVE", function()
      local r = create(srv, { InstanceAlias = "lifecycle-1", Tags = { team = "x" } })
      assert.are.equal(200, r.status)
      local id = r.json.Id
      local d = describe_instance(srv, id)
      assert.are.equal(200, d.status)
      local inst = d.json.Instance
      assert.are.equal(id, inst.Id)
      assert.are.equal(r.json.Arn, inst.Arn)
      assert.are.equal("CREATION_IN_PROGRESS", inst.InstanceStatus)
      assert.are.equal("CONNECT_MANAGED", inst.IdentityManagementType)
      assert.are.equal("lifecycle-1", inst.InstanceAlias)
      assert.are.equal("https://lifecycle-1.my.connect.aws", inst.InstanceAccessUrl)
      assert.are.equal(true, inst.InboundCallsEnabled)
      assert.are.equal(false, inst.OutboundCallsEnabled)
      assert.are.equal("x", inst.Tags.team)
      assert.is_number(inst.CreatedTime)
      assert.is_true(math.abs(inst.CreatedTime - os.time()) < 60)
      assert.is_string(inst.ServiceRole)
      assert.is_nil(inst.StatusReason)
      d = wait_status(srv, id, "ACTIVE", 3)
      assert.are.equal("ACTIVE", d.json.Instance.InstanceStatus)
    end)

    it("fails the next create when fail_next_create is set (one shot)", function()
      srv:config{ fail_next_create = "Directory not reachable" }
      local bad = create(srv).json.Id
      local good = create(srv).json.Id
      local d = wait_status(srv, bad, "CREATION_FAILED", 3)
      assert.are.equal("CREATION_FAILED", d.json.Instance.InstanceStatus)
      assert.are.equal("Directory not reachable", d.json.Instance.StatusReason.Message)
      d = wait_status(srv, good, "ACTIVE", 3)
      assert.are.equal("ACTIVE", d.json.Instance.InstanceStatus)
      assert.is_nil(d.json.Instance.StatusReason)
      assert.is_nil(srv:config().fail_next_create)
    end)

    it("fails creates of aliases listed in fail_aliases", function()
      srv:config{ fail_aliases = { doomed = "Quota for alias" } }
      local id = create(srv, { InstanceAlias = "doomed" }).json.Id
      local d = wait_status(srv, id, "CREATION_FAILED", 3)
      assert.are.equal("Quota for alias", d.json.Instance.StatusReason.Message)
    end)

    it("is idempotent by ClientToken", function()
      local a = create(srv, { ClientToken = "same-token", InstanceAlias = "idem" })
      local b = create(srv, { ClientToken = "same-token", InstanceAlias = "idem" })
      assert.are.equal(200, a.status)
      assert.are.equal(200, b.status)
      assert.are.equal(a.json.Id, b.json.Id)
      assert.are.equal(a.json.Arn, b.json.Arn)
      assert.are.equal(1, #srv:instances())
      local c = create(srv, { ClientToken = "other-token" })
      assert.are_not.equal(a.json.Id, c.json.Id)
      assert.are.equal(2, #srv:instances())
    end)

    it("rejects an alias already in use", function()
      assert.are.equal(200, create(srv, { InstanceAlias = "taken" }).status)
      local r = create(srv, { InstanceAlias = "taken" })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
      assert.is_truthy(r.json.message:match("already in use"))
    end)

    it("answers 402 ServiceQuotaExceededException beyond the quota", function()
      srv:config{ quota = 2 }
      assert.are.equal(200, create(srv).status)
      assert.are.equal(200, create(srv).status)
      local r = create(srv)
      assert.are.equal(402, r.status)
      assert.are.equal("ServiceQuotaExceededException", header(r, "x-amzn-ErrorType"))
      assert.is_string(r.json.message)
      assert.are.equal(2, #srv:instances())
    end)

    it("does not count CREATION_FAILED instances against the quota", function()
      srv:config{ quota = 1, fail_next_create = "nope" }
      local id = create(srv).json.Id
      assert.are.equal("CREATION_FAILED",
        wait_status(srv, id, "CREATION_FAILED", 3).json.Instance.InstanceStatus)
      assert.are.equal(200, create(srv).status)
      assert.are.equal(402, create(srv).status)
    end)

    local invalid = {
      { "missing IdentityManagementType", { IdentityManagementType = cjson.null }, "identityManagementType" },
      { "missing InboundCallsEnabled", { InboundCallsEnabled = cjson.null }, "inboundCallsEnabled" },
      { "bad enum", { IdentityManagementType = "LDAP" }, "enum" },
      { "non-boolean", { OutboundCallsEnabled = "yes" }, "boolean" },
      { "alias starting d-", { InstanceAlias = "d-abc" }, "instanceAlias" },
      { "alias ending with -", { InstanceAlias = "abc-" }, "instanceAlias" },
      { "alias with _", { InstanceAlias = "ab_c" }, "instanceAlias" },
      { "alias too long", { InstanceAlias = string.rep("a", 46) }, "instanceAlias" },
      { "empty alias", { InstanceAlias = "" }, "instanceAlias" },
      { "bad DirectoryId", { IdentityManagementType = "EXISTING_DIRECTORY", DirectoryId = "d-ABCDEF0123" }, "directoryId" },
      { "ClientToken > 500", { ClientToken = string.rep("t", 501) }, "clientToken" },
      { "aws: tag key", { Tags = { ["aws:owner"] = "me" } }, "tags" },
      { "tag key > 128", { Tags = { [string.rep("k", 129)] = "v" } }, "tags" },
      { "tag value > 256", { Tags = { k = string.rep("v", 257) } }, "tags" },
      { "tag key with !", { Tags = { ["a!"] = "v" } }, "tags" },
    }
    for _, case in ipairs(invalid) do
      it("rejects " .. case[1] .. " with 400 InvalidRequestException", function()
        local r = create(srv, case[2])
        assert.are.equal(400, r.status)
        assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
        assert.is_truthy(r.json.message:find(case[3], 1, true))
        assert.are.equal(0, #srv:instances())
      end)
    end

    it("rejects more than 50 tags and accepts 50, unicode keys and max lengths", function()
      local tags = {}
      for i = 1, 51 do tags["k" .. i] = "v" end
      assert.are.equal(400, create(srv, { Tags = tags }).status)
      tags.k51 = nil
      assert.are.equal(200, create(srv, { Tags = tags }).status)
      local r = create(srv, {
        InstanceAlias = string.rep("a", 44) .. "9",
        ClientToken = string.rep("t", 500),
        -- "é" and "日本" are letters (\p{L}), the space is \p{Z}: 128 characters
        Tags = { ["caf\195\169 \230\151\165\230\156\172 _.:/=+-@" .. string.rep("x", 112)] = string.rep("v", 256) },
      })
      assert.are.equal(200, r.status)
      assert.are.equal(200, create(srv, { IdentityManagementType = "EXISTING_DIRECTORY",
                                         DirectoryId = "d-0123456789" }).status)
      assert.are.equal(200, create(srv, { InstanceAlias = "a--b-9" }).status)
    end)

    it("answers SerializationException for a non-JSON body", function()
      local r = send1(srv, { method = "PUT", path = "/instance", body = "not json" })
      assert.are.equal(400, r.status)
      assert.are.equal("SerializationException", header(r, "x-amzn-ErrorType"))
    end)

    it("paginates ListInstances with opaque tokens", function()
      local ids = {}
      for i = 1, 5 do ids[i] = create(srv, { InstanceAlias = "page" .. i }).json.Id end
      local seen, token, pages = {}, nil, 0
      repeat
        local params = { { "maxResults", "2" } }
        if token then params[2] = { "nextToken", token } end
        local r = send1(srv, { method = "GET", path = "/instance", params = params })
        assert.are.equal(200, r.status)
        pages = pages + 1
        assert.is_true(#r.json.InstanceSummaryList <= 2)
        for _, s in ipairs(r.json.InstanceSummaryList) do
          seen[#seen + 1] = s.Id
          assert.is_nil(s.Tags)
          assert.is_nil(s.StatusReason)
          assert.is_string(s.InstanceStatus)
        end
        token = r.json.NextToken
      until not token
      assert.are.equal(3, pages)
      assert.are.same(ids, seen)
      -- default page size is 10: everything, no NextToken
      local r = send1(srv, { method = "GET", path = "/instance" })
      assert.are.equal(5, #r.json.InstanceSummaryList)
      assert.is_nil(r.json.NextToken)
    end)

    it("rejects bad maxResults and unknown nextToken", function()
      for _, v in ipairs({ "0", "11", "abc", "-1" }) do
        local r = send1(srv, { method = "GET", path = "/instance", params = { { "maxResults", v } } })
        assert.are.equal(400, r.status)
        assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
      end
      local r = send1(srv, { method = "GET", path = "/instance", params = { { "nextToken", "bogus" } } })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
    end)

    it("deletes instances", function()
      local id = create(srv).json.Id
      local r = send1(srv, { method = "DELETE", path = "/instance/" .. id,
                             params = { { "clientToken", "del-1" } } })
      assert.are.equal(200, r.status)
      assert.are.equal("", r.body)
      assert.are.equal("0", header(r, "Content-Length"))
      assert.are.equal(0, #srv:instances())
      assert.are.equal(404, describe_instance(srv, id).status)
      -- a retry with the same clientToken succeeds again, without one it is 404
      assert.are.equal(200, send1(srv, { method = "DELETE", path = "/instance/" .. id,
                                         params = { { "clientToken", "del-1" } } }).status)
      r = send1(srv, { method = "DELETE", path = "/instance/" .. id })
      assert.are.equal(404, r.status)
      assert.are.equal("ResourceNotFoundException", header(r, "x-amzn-ErrorType"))
    end)

    it("answers 404 UnknownOperationException for anything else", function()
      for _, req in ipairs({ { method = "POST", path = "/instance", body = "{}" },
                             { method = "GET", path = "/" },
                             { method = "PUT", path = "/instance/abc", body = "{}" },
                             { method = "GET", path = "/instance/a/b" } }) do
        local r = send1(srv, req)
        assert.are.equal(404, r.status)
        assert.are.equal("UnknownOperationException", header(r, "x-amzn-ErrorType"))
      end
    end)
  end)

  describe("scripted responses", function()
    it("serves items in FIFO order instead of the real handling", function()
      srv:script{
        { status = 429, headers = { ["x-amzn-ErrorType"] = "ThrottlingException" },
          body = '{"message":"slow down"}' },
        { status = 500, body = "<html>oops</html>",
          headers = { ["Content-Type"] = "text/html" } },
      }
      local res = send(srv, {
        { method = "PUT", path = "/instance", body = create_body() },
        { method = "PUT", path = "/instance", body = create_body() },
        { method = "PUT", path = "/instance", body = create_body() },
      })
      assert.are.equal(429, res[1].status)
      assert.are.equal("ThrottlingException", header(res[1], "x-amzn-ErrorType"))
      assert.are.equal('{"message":"slow down"}', res[1].body)
      assert.is_string(header(res[1], "x-amzn-RequestId"))
      assert.are.equal("23", header(res[1], "Content-Length"))
      assert.are.equal(500, res[2].status)
      assert.are.equal("text/html", header(res[2], "Content-Type"))
      assert.are.equal("<html>oops</html>", res[2].body)
      assert.are.equal(200, res[3].status)
      -- only the unscripted request was applied to the state
      assert.are.equal(1, #srv:instances())
      local reqs = srv:requests()
      assert.are.equal(3, #reqs)
      assert.is_true(reqs[1].scripted)
      assert.is_true(reqs[1].signature_valid)
      assert.is_false(reqs[3].scripted)
    end)

    it("control requests bypass the queue", function()
      srv:script{ { status = 503 } }
      assert.are.equal(0, #srv:instances())
      assert.are.same({}, srv:requests())
      assert.are.equal(503, send1(srv, { method = "GET" }).status)
    end)

    it("delays, and passes through with pass = true", function()
      srv:script{ { delay = 0.6, status = 429, body = "{}" },
                  { pass = true, delay = 0.4 },
                  { pass = true } }
      local res = send(srv, { { method = "GET" },
                              { method = "PUT", path = "/instance", body = create_body() },
                              { method = "GET", unsigned = true } })
      assert.are.equal(429, res[1].status)
      assert.is_true(res[1].elapsed >= 0.55)
      assert.are.equal(200, res[2].status)
      assert.is_true(res[2].elapsed >= 0.35)
      assert.are.equal(1, #srv:instances())
      -- pass = true still enforces authentication
      assert.are.equal(403, res[3].status)
    end)

    it("sends a lying Content-Length as-is", function()
      srv:script{ { status = 200, body = "{}", content_length = 2147483648 } }
      local r = raw(srv, raw_get(srv))
      assert.is_truthy(r.text:match("\r\nContent%-Length: 2147483648\r\n"))
      assert.is_truthy(r.text:match("\r\n\r\n{}$"))
      assert.is_true(r.eof)
    end)

    it("fault reset: RST without an answer", function()
      srv:script{ { fault = "reset" } }
      local r = raw(srv, raw_get(srv))
      assert.are.equal("ConnectionResetError", r.error)
      assert.are.equal(0, r.length)
      assert.are.equal("reset", srv:requests()[1].outcome)
    end)

    it("fault reset_mid_body: headers, half the body, then RST", function()
      local body = string.rep("x", 200)
      srv:script{ { fault = "reset_mid_body", status = 200, body = body } }
      local r = raw(srv, raw_get(srv))
      assert.are.equal("ConnectionResetError", r.error)
      assert.is_false(r.eof)
      if r.length > 0 then
        assert.is_truthy(r.text:match("^HTTP/1.1 200 OK\r\n"))
        assert.is_truthy(r.text:match("Content%-Length: 200\r\n"))
        assert.is_truthy(r.text:match("\r\n\r\n" .. string.rep("x", 100) .. "$"))
      end
    end)

    it("fault truncated: headers, half the body, then FIN", function()
      srv:script{ { fault = "truncated", status = 200, body = "0123456789" } }
      local r = raw(srv, raw_get(srv))
      assert.is_nil(r.error)
      assert.is_true(r.eof)
      assert.is_truthy(r.text:match("Content%-Length: 10\r\n"))
      assert.is_truthy(r.text:match("\r\n\r\n01234$"))
    end)

    it("fault garbage: non-HTTP bytes then close", function()
      srv:script{ { fault = "garbage" } }
      local r = raw(srv, raw_get(srv))
      assert.is_true(r.eof)
      assert.is_true(r.length > 0)
      assert.is_false(r.starts_http)
    end)

    it("fault trickle: whole response one byte per interval", function()
      srv:script{ { fault = "trickle", interval = 0.005, status = 200, body = '{"ok":true}' } }
      local r = raw(srv, raw_get(srv))
      assert.is_true(r.eof)
      assert.is_truthy(r.text:match("^HTTP/1.1 200 OK\r\n"))
      assert.is_truthy(r.text:match('\r\n\r\n{"ok":true}$'))
      assert.is_true(r.chunks > 20)
    end)

    it("fault trickle with headers_first: body one byte per interval", function()
      srv:script{ { fault = "trickle", interval = 0.1, headers_first = true,
                    status = 200, body = "0123456789" } }
      local r = raw(srv, raw_get(srv))
      assert.is_true(r.eof)
      assert.is_truthy(r.text:match("\r\n\r\n0123456789$"))
      assert.is_true(r.elapsed >= 0.85)
      assert.is_true(r.chunks >= 5)
    end)

    it("fault hang: never answers, other connections still served", function()
      srv:script{ { fault = "hang" } }
      local t0 = os.time()
      local r = raw(srv, raw_get(srv), { timeout = 1 })
      assert.is_true(r.timed_out)
      assert.are.equal(0, r.length)
      assert.is_true(os.time() - t0 < 10)
      assert.are.equal(200, send1(srv, { method = "GET" }).status)
    end)
  end)

  describe("TLS", function()
    it("serves HTTPS with a self-signed certificate", function()
      local dir = os.tmpname()
      os.remove(dir)
      local s -- busted keeps only the last finally() of a test: one for all
      finally(function()
        if s then s:stop() end
        os.execute("rm -rf " .. fake.shell_quote(dir))
      end)
      os.execute("mkdir -p " .. fake.shell_quote(dir))
      local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
      os.execute("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
        .. " -keyout " .. key .. " -out " .. cert .. " >/dev/null 2>&1")
      s = fake.start{ tls_cert = cert, tls_key = key }
      assert.are.equal("https://127.0.0.1:" .. s.port, s.endpoint)
      local res = send(s, { { method = "PUT", path = "/instance", body = create_body() },
                            { method = "GET" } })
      assert.are.equal(200, res[1].status)
      assert.are.equal(200, res[2].status)
      assert.are.equal(1, #s:instances())
      local reqs = s:requests()
      assert.are.equal(reqs[1].connection, reqs[2].connection)
      s:script{ { fault = "reset" } }
      local r = raw(s, raw_get(s))
      assert.is_truthy(r.error)
    end)
  end)

  -- Every operation of the model ---------------------------------------------
  -- botocore (independent of the fake) serialises a valid input for each
  -- operation, signs and sends it; the answer is parsed by botocore's
  -- rest-json parser and checked by its validator and the model's
  -- constraints.  Then one required member is dropped and the answer must be
  -- the validation error that operation's model allows.
  describe("every operation of the model", function()
    it("answers all of them; outputs are valid; invalid input gets the modeled error", function()
      local ops = srv:operations()
      local count = 0
      for _ in pairs(ops) do count = count + 1 end
      assert.are.equal(380, count)
      local rep = run_py(CONFORMANCE_PY, { support_dir, srv.port })
      assert.are.equal(count, rep.n)
      for op, status in pairs(rep.status) do
        -- stateful: random ids name no instance, a made-up NextToken is refused
        local want = ({ DescribeInstance = 404, DeleteInstance = 404, ListInstances = 400 })[op] or 200
        assert.are.equal(want, status, op)
      end
      assert.are.same({}, rep.bad_output)
      assert.are.same({}, rep.invalid_answers)
      assert.is_true(rep.invalid_checked > 150)
      assert.are.same({}, srv:warnings())
      -- the log names the operation of every request, and each one once
      local seen = {}
      for _, r in ipairs(srv:requests()) do
        assert.is_string(r.operation)
        assert.is_table(r.input)
        assert.is_true(r.signature_valid)
        seen[r.operation] = (seen[r.operation] or 0) + 1
      end
      for op in pairs(ops) do assert.is_truthy(seen[op], op) end
      -- the server's own time per request, reported (speed is measured, not
      -- asserted: these machines are shared)
      local times = {}
      for _, r in ipairs(srv:requests()) do times[#times + 1] = r.elapsed end
      table.sort(times)
      assert.is_number(times[math.floor(#times / 2)])
      io.write(("\nfake server: median %.2f ms per request over %d requests\n"):format(
        times[math.floor(#times / 2)] * 1000, #times))
    end)

    it("starts and says LISTENING (the time it took is reported)", function()
      local rep = run_py(STARTUP_PY, { fake.script })
      assert.is_true(rep.listening)
      io.write(("\nfake server: start-up %.2f s\n"):format(rep.seconds))
    end)
  end)

  describe("routing", function()
    local inst = "11111111-2222-4333-8444-555555555555"

    it("routes by method and requestUri template and logs operation and input", function()
      local r = send1(srv, { method = "GET", path = "/users/" .. inst .. "/u-1" })
      assert.are.equal(200, r.status)
      local d = send1(srv, { method = "DELETE", path = "/users/" .. inst .. "/u-1" })
      assert.are.equal(200, d.status)
      assert.are.equal("", d.body)
      local reqs = srv:requests()
      assert.are.equal("DescribeUser", reqs[1].operation)
      assert.are.same({ InstanceId = inst, UserId = "u-1" }, reqs[1].input)
      assert.are.equal("DeleteUser", reqs[2].operation)
    end)

    it("percent-decodes each label: %2F inside a label is data", function()
      local arn = "arn:aws:connect:us-east-1:123456789012:instance/" .. inst .. "/queue/q 1"
      local path = "/tags/" .. arn:gsub("[^%w%-_.~]", function(c) return ("%%%02X"):format(c:byte()) end)
      assert.is_truthy(path:find("%2F", 1, true))
      local r = send1(srv, { method = "POST", path = path, body = cjson.encode{ tags = { k = "v" } } })
      assert.are.equal(200, r.status)
      local req = srv:requests()[1]
      assert.are.equal("TagResource", req.operation)
      assert.are.equal(arn, req.input.resourceArn)
      assert.are.same({ k = "v" }, srv:tags()[arn])
    end)

    it("takes . and .. segments as ids, as they arrive", function()
      for _, id in ipairs({ ".", ".." }) do
        local r = send1(srv, { method = "GET", path = "/users/" .. inst .. "/" .. id })
        assert.are.equal(200, r.status)
        assert.are.equal(id, r.json.User.Id) -- echoed
      end
      -- and validation still applies to them: Page refuses "." and ".."
      local r = send1(srv, { method = "DELETE", path = "/workspaces/" .. inst .. "/ws-1/pages/.." })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
      assert.are.equal("DeleteWorkspacePage", srv:requests()[3].operation)
      assert.are.equal(200, send1(srv, { method = "DELETE",
        path = "/workspaces/" .. inst .. "/ws-1/pages/home" }).status)
    end)

    it("answers 404 UnknownOperationException for a method or path no operation has", function()
      for _, req in ipairs({ { method = "PATCH", path = "/users/" .. inst .. "/u-1" },
                             { method = "GET", path = "/users/" .. inst .. "/u-1/extra/x" },
                             { method = "GET", path = "/users/" .. inst .. "/" },
                             { method = "GET", path = "/no-such-thing" } }) do
        local r = send1(srv, req)
        assert.are.equal(404, r.status, req.method .. " " .. req.path)
        assert.are.equal("UnknownOperationException", header(r, "x-amzn-ErrorType"))
        assert.is_string(r.json.Message)
      end
      for _, r in ipairs(srv:requests()) do assert.is_nil(r.operation) end
    end)

    it("decodes querystring lists (repeated keys), integers and headers (HTTP-date)", function()
      local r = send1(srv, { method = "GET", path = "/queues-summary/" .. inst,
        params = { { "queueTypes", "STANDARD" }, { "queueTypes", "AGENT" }, { "maxResults", "7" } } })
      assert.are.equal(200, r.status)
      local inp = srv:requests()[1].input
      assert.are.same({ "STANDARD", "AGENT" }, inp.QueueTypes)
      assert.are.equal(7, inp.MaxResults)
      r = send1(srv, { method = "PUT", path = "/test-cases/" .. inst,
        headers = { ["x-amz-last-modified-time"] = "Tue, 14 Nov 2023 22:13:20 GMT",
                    ["x-amz-last-modified-region"] = "us-west-2" },
        body = cjson.encode{ Name = "tc", Content = "{}" } })
      assert.are.equal(200, r.status)
      inp = srv:requests()[2].input
      assert.are.equal("CreateTestCase", srv:requests()[2].operation)
      assert.are.equal(1700000000, inp.LastModifiedTime)
      assert.are.equal("us-west-2", inp.LastModifiedRegion)
      assert.are.equal("tc", inp.Name)
      -- a header timestamp that is not a date is a validation error
      r = send1(srv, { method = "PUT", path = "/test-cases/" .. inst,
        headers = { ["x-amz-last-modified-time"] = "yesterday" },
        body = cjson.encode{ Name = "tc", Content = "{}" } })
      assert.are.equal(400, r.status)
      assert.is_truthy(r.json.Message:find("Member must be a timestamp", 1, true))
    end)

    it("reads querystring booleans and ISO-8601 timestamps, header HTTP-dates", function()
      -- the Connect model has no boolean or timestamp querystring member yet:
      -- the decoder itself is checked
      local rep = run_py(WIRE_PY, { support_dir })
      assert.are.same({ true, false, "yes", 1700000000, 1700000000.5, 1700000000, "soon",
                        42, "4x2" }, rep.decoded)
    end)

    it("sends header-bound output members as headers; routes '?' requestUri templates", function()
      local rep = run_py(WIRE_PY, { support_dir })
      assert.are.same({ { "x-amz-flag", "true" }, { "x-amz-when", "Tue, 14 Nov 2023 22:13:20 GMT" } },
                      rep.headers)
      assert.are.equal('{"name":"n"}', rep.body)
      assert.are.same({ Id = "a/b" }, rep.route[1])
      assert.are.equal(cjson.null, rep.route[2]) -- null: no match
      assert.are.equal(cjson.null, rep.route[3])
    end)
  end)

  describe("validation against the model", function()
    local inst = "11111111-2222-4333-8444-555555555555"

    it("counts string lengths in code points", function()
      local e = "\195\169" -- é: 2 bytes, 1 code point
      assert.are.equal(200, create(srv, { Tags = { k = string.rep(e, 256) } }).status)
      local r = create(srv, { Tags = { k = string.rep(e, 257) } })
      assert.are.equal(400, r.status)
      assert.is_truthy(r.json.Message:find("length less than or equal to 256", 1, true))
    end)

    it("checks list entries, number values and enums in the querystring", function()
      local keys = {}
      for i = 1, 51 do keys[i] = { "tagKeys", "k" .. i } end
      local r = send1(srv, { method = "DELETE", path = "/tags/arn%3Aaws%3Aconnect%3Ax", params = keys })
      assert.are.equal(400, r.status)
      assert.is_truthy(r.json.Message:find("'tagKeys'", 1, true))
      for _, q in ipairs({ { "maxResults", "1001" }, { "maxResults", "0" }, { "queueTypes", "BOGUS" },
                           { "maxResults", "x" } }) do
        r = send1(srv, { method = "GET", path = "/queues-summary/" .. inst, params = { q } })
        assert.are.equal(400, r.status, q[1] .. "=" .. q[2])
        assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
      end
    end)

    it("un-doubles the backslashes of patterns written as \\\\+ and \\\\S", function()
      -- PhoneNumber is "\\\\+[1-9]\\\\d{1,14}$" in the JSON
      local ok = send1(srv, { method = "POST", path = "/phone-number/claim",
                              body = cjson.encode{ PhoneNumber = "+14155550100" } })
      assert.are.equal(200, ok.status)
      local bad = send1(srv, { method = "POST", path = "/phone-number/claim",
                               body = cjson.encode{ PhoneNumber = "14155550100" } })
      assert.are.equal(400, bad.status)
      -- ClaimPhoneNumber's model lists InvalidParameterException, not InvalidRequestException
      assert.are.equal("InvalidParameterException", header(bad, "x-amzn-ErrorType"))
      assert.is_truthy(bad.json.Message:find("regular expression pattern", 1, true))
      -- WorkspaceName is ".*\\\\S.*": blank is refused, any visible character passes
      local blank = send1(srv, { method = "PUT", path = "/workspaces/" .. inst,
                                 body = cjson.encode{ Name = "   " } })
      assert.are.equal(400, blank.status)
      assert.are.equal(200, send1(srv, { method = "PUT", path = "/workspaces/" .. inst,
                                         body = cjson.encode{ Name = " x " } }).status)
    end)

    it("checks patterns in linear time on long hostile strings", function()
      -- MediaSource is ".*\\\\S.*" up to 533,333 characters: backtracking
      -- would take hours on 500,000 blanks (the helper gives up after 10 s)
      local inst_path = "/workspaces/" .. inst .. "/ws-1/media"
      local r = send1(srv, { method = "POST", path = inst_path,
        body = cjson.encode{ MediaType = "IMAGE_LOGO_LIGHT_FAVICON", MediaSource = string.rep(" ", 500000) } })
      assert.are.equal(400, r.status)
      assert.is_truthy(r.json.Message:find("'mediaSource'", 1, true))
      -- a string over its max is not also run through its pattern (the
      -- alias pattern backtracks quadratically)
      r = create(srv, { InstanceAlias = string.rep("a", 200000) .. "!" })
      assert.are.equal(400, r.status)
    end)

    it("requires exactly one member of a union", function()
      local resource = "arn:aws:connect:us-east-1:123456789012:instance/x"
      local base = { FileName = "a.txt", FileSizeInBytes = 10, FileUseCaseType = "ATTACHMENT" }
      local function start(created_by)
        local b = {}
        for k, v in pairs(base) do b[k] = v end
        b.CreatedBy = created_by
        return send1(srv, { method = "PUT", path = "/attached-files/" .. inst,
                            params = { { "associatedResourceArn", resource } },
                            body = cjson.encode(b) })
      end
      assert.are.equal(200, start({ ConnectUserArn = "arn:aws:connect:us-east-1:123456789012:user" }).status)
      local both = start({ ConnectUserArn = "arn:aws:connect:u", AWSIdentityArn = "arn:aws:iam::1:user/x" })
      assert.are.equal(400, both.status)
      assert.is_truthy(both.json.Message:find("exactly one member", 1, true))
      local none = start({})
      assert.are.equal(400, none.status)
    end)
  end)

  describe("synthesized answers", function()
    local inst = "11111111-2222-4333-8444-555555555555"

    it("are deterministic, echo input ids and use epoch-second timestamps", function()
      local a = send1(srv, { method = "GET", path = "/users/" .. inst .. "/user-a" })
      local b = send1(srv, { method = "GET", path = "/users/" .. inst .. "/user-a" })
      local c = send1(srv, { method = "GET", path = "/users/" .. inst .. "/user-b" })
      assert.are.equal(200, a.status)
      assert.are.equal(a.body, b.body)
      assert.are_not.equal(a.body, c.body)
      assert.are.equal("user-a", a.json.User.Id)
      assert.are.equal("arn:aws:connect:us-east-1:123456789012:instance/" .. inst .. "/user/user-a",
                       a.json.User.Arn)
      assert.is_number(a.json.User.LastModifiedTime)
      assert.are.equal("application/json", header(a, "Content-Type"))
    end)

    it("answer paginated operations in two pages", function()
      local p1 = send1(srv, { method = "GET", path = "/users-summary/" .. inst })
      assert.are.equal(200, p1.status)
      assert.is_string(p1.json.NextToken)
      local n = #p1.json.UserSummaryList
      assert.is_true(n >= 1 and n <= 2)
      local p2 = send1(srv, { method = "GET", path = "/users-summary/" .. inst,
                              params = { { "nextToken", p1.json.NextToken } } })
      assert.are.equal(200, p2.status)
      assert.is_nil(p2.json.NextToken)
      assert.is_true(#p2.json.UserSummaryList >= 1)
    end)
  end)

  describe("tags", function()
    it("are stateful on instance ARNs, CreateInstance's tags included", function()
      local c = create(srv, { Tags = { team = "ops" } })
      local arn = c.json.Arn
      local path = "/tags/" .. arn:gsub("[:/]", function(ch) return ("%%%02X"):format(ch:byte()) end)
      local r = send1(srv, { method = "GET", path = path })
      assert.are.equal(200, r.status)
      assert.are.same({ team = "ops" }, r.json.tags)
      assert.are.equal(200, send1(srv, { method = "POST", path = path,
                                         body = cjson.encode{ tags = { env = "prod" } } }).status)
      local d = describe_instance(srv, c.json.Id)
      assert.are.same({ team = "ops", env = "prod" }, d.json.Instance.Tags)
      assert.are.equal(200, send1(srv, { method = "DELETE", path = path,
                                         params = { { "tagKeys", "team" } } }).status)
      assert.are.same({ env = "prod" }, send1(srv, { method = "GET", path = path }).json.tags)
      assert.are.same({ env = "prod" }, srv:tags()[arn])
      -- gone with its instance
      assert.are.equal(200, send1(srv, { method = "DELETE", path = "/instance/" .. c.json.Id }).status)
      r = send1(srv, { method = "GET", path = path })
      assert.are.equal(404, r.status)
      assert.are.equal("ResourceNotFoundException", header(r, "x-amzn-ErrorType"))
    end)

    it("work on ARNs from synthesized answers; strict_arns refuses others", function()
      local inst = "11111111-2222-4333-8444-555555555555"
      local u = send1(srv, { method = "PUT", path = "/users/" .. inst,
        body = cjson.encode{ Username = "agent1", SecurityProfileIds = { "sp-1" }, RoutingProfileId = "rp-1" } })
      assert.are.equal(200, u.status)
      local arn = u.json.UserArn
      assert.is_truthy(arn:match("^arn:aws:connect:us%-east%-1:123456789012:instance/"))
      local function enc(s) return (s:gsub("[:/]", function(ch) return ("%%%02X"):format(ch:byte()) end)) end
      srv:config{ strict_arns = true }
      assert.are.equal(200, send1(srv, { method = "POST", path = "/tags/" .. enc(arn),
                                         body = cjson.encode{ tags = { a = "1" } } }).status)
      assert.are.same({ a = "1" }, send1(srv, { method = "GET", path = "/tags/" .. enc(arn) }).json.tags)
      local r = send1(srv, { method = "GET", path = "/tags/" .. enc("arn:aws:connect:us-east-1:1:never") })
      assert.are.equal(404, r.status)
      srv:config{ strict_arns = false }
      r = send1(srv, { method = "POST", path = "/tags/" .. enc("arn:aws:connect:us-east-1:1:never"),
                       body = cjson.encode{ tags = { b = "2" } } })
      assert.are.equal(200, r.status)
      -- no tags: no member (the model's TagMap has at least one entry)
      r = send1(srv, { method = "GET", path = "/tags/" .. enc("arn:aws:connect:us-east-1:1:empty") })
      assert.are.equal(200, r.status)
      assert.is_nil(r.json.tags)
    end)
  end)

  describe("scripted answers per operation (/_fake/respond)", function()
    local inst = "11111111-2222-4333-8444-555555555555"
    local user = "/users/" .. inst .. "/u-1"

    it("serves the rule `times` times for that operation only, then the normal answer", function()
      srv:respond{ operation = "DescribeUser", status = 404, times = 2,
                   headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException" },
                   body = { Message = "no such user" } }
      local res = send(srv, { { method = "GET", path = user }, { method = "GET", path = "/users-summary/" .. inst },
                              { method = "GET", path = user }, { method = "GET", path = user } })
      assert.are.equal(404, res[1].status)
      assert.are.equal("ResourceNotFoundException", header(res[1], "x-amzn-ErrorType"))
      assert.are.equal('{"Message": "no such user"}', res[1].body)
      assert.are.equal(200, res[2].status)
      assert.are.equal(404, res[3].status)
      assert.are.equal(200, res[4].status)
      local reqs = srv:requests()
      assert.are.equal("respond", reqs[1].script_source)
      assert.is_true(reqs[1].scripted)
      assert.is_false(reqs[4].scripted)
      assert.are.same({}, srv:responders())
    end)

    it("lasts until reset without times, and is listed and cleared", function()
      srv:respond{ operation = "DescribeUser", status = 200, body = { User = { Id = "scripted" } } }
      for _ = 1, 3 do
        local r = send1(srv, { method = "GET", path = user })
        assert.are.equal("scripted", r.json.User.Id)
      end
      assert.are.equal(1, #srv:responders().DescribeUser)
      srv:respond{ operation = "ListUsers", status = 500 }
      srv:clear_responses("DescribeUser")
      assert.is_nil(srv:responders().DescribeUser)
      assert.are.equal(500, send1(srv, { method = "GET", path = "/users-summary/" .. inst }).status)
      srv:reset()
      assert.are.same({}, srv:responders())
      assert.are.equal(200, send1(srv, { method = "GET", path = "/users-summary/" .. inst }).status)
      srv:respond{ operation = "ListUsers", status = 500 }
      srv:clear_responses()
      assert.are.same({}, srv:responders())
    end)

    it("comes after the signature check and, unless validate = false, input validation", function()
      srv:respond{ operation = "ClaimPhoneNumber", status = 202, body = {} }
      local res = send(srv, {
        { method = "POST", path = "/phone-number/claim", body = cjson.encode{ PhoneNumber = "+14155550100" },
          corrupt_signature = true },
        { method = "POST", path = "/phone-number/claim", body = cjson.encode{ PhoneNumber = "nope" } },
        { method = "POST", path = "/phone-number/claim", body = cjson.encode{ PhoneNumber = "+14155550100" } },
      })
      assert.are.equal(403, res[1].status)
      assert.are.equal(400, res[2].status)
      assert.are.equal(202, res[3].status)
      srv:reset()
      srv:respond{ operation = "ClaimPhoneNumber", status = 202, validate = false, times = 1 }
      assert.are.equal(202, send1(srv, { method = "POST", path = "/phone-number/claim",
                                         body = cjson.encode{ PhoneNumber = "nope" } }).status)
      -- the FIFO script still comes first, whatever the verdict
      srv:respond{ operation = "DescribeUser", status = 404 }
      srv:script{ { status = 429, body = "{}" } }
      assert.are.equal(429, send1(srv, { method = "GET", path = user }).status)
      assert.are.equal(404, send1(srv, { method = "GET", path = user }).status)
    end)

    it("refuses unknown operations, keys and faults", function()
      assert.are.equal(400, (srv:control("POST", "/_fake/respond", { operation = "NoSuchOperation" })))
      assert.are.equal(400, (srv:control("POST", "/_fake/respond", { operation = "DescribeUser", colour = 1 })))
      assert.are.equal(400, (srv:control("POST", "/_fake/respond", { operation = "DescribeUser", times = 0 })))
      assert.are.equal(400, (srv:control("POST", "/_fake/respond", { operation = "DescribeUser", fault = "x" })))
      assert.are.same({}, srv:responders())
    end)

    it("can serve a fault", function()
      srv:respond{ operation = "DescribeUser", fault = "reset", times = 1 }
      local r = raw(srv, raw_get(srv, user))
      -- unsigned: the signature check answers before the rule
      assert.is_true(r.starts_http)
      assert.is_truthy(r.text:match("^HTTP/1.1 403"))
      r = send1(srv, { method = "GET", path = user })
      assert.is_string(r.error)
    end)
  end)

  describe("fixed bugs", function()
    it("creates with an alias after an instance without alias exists (was a 500)", function()
      assert.are.equal(200, create(srv, { InstanceAlias = cjson.null }).status)
      assert.are.equal(200, create(srv, { InstanceAlias = "after-none" }).status)
      assert.are.equal(400, create(srv, { InstanceAlias = "after-none" }).status)
      assert.are.equal(2, #srv:instances())
    end)

    it("refuses EXISTING_DIRECTORY without a DirectoryId with 400 InvalidRequestException", function()
      local r = create(srv, { IdentityManagementType = "EXISTING_DIRECTORY" })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidRequestException", header(r, "x-amzn-ErrorType"))
      assert.is_truthy(r.json.Message:find("DirectoryId", 1, true))
      assert.are.equal(0, #srv:instances())
    end)

    it("prints a readable --help: description, every option with its default, the control API", function()
      local p = io.popen(PY .. " " .. fake.shell_quote(fake.script) .. " --help 2>&1")
      local out = p:read("*a")
      p:close()
      assert.is_truthy(out:match("^usage: fake_connect.py"))
      assert.is_truthy(out:find("every operation of the Connect service model", 1, true))
      for _, opt in ipairs({ "--host", "--port", "--access-key", "--secret-key", "--session-token",
                             "--region", "--create-delay", "--quota", "--max-skew", "--clock-offset",
                             "--tls-cert", "--tls-key", "--model", "--strict-arns",
                             "--error-type-suffix", "--parent-pid", "--verbose" }) do
        assert.is_truthy(out:find("\n  " .. opt, 1, true), opt)
      end
      local _, defaults = out:gsub("%(default: ", "")
      assert.is_true(defaults >= 17)
      for _, ep in ipairs({ "/_fake/reset", "/_fake/script", "/_fake/respond", "/_fake/requests",
                            "/_fake/instances", "/_fake/tags", "/_fake/config", "/_fake/health" }) do
        assert.is_truthy(out:find(ep, 1, true), ep)
      end
      for line in out:gmatch("[^\n]*") do assert.is_true(#line <= 100, line) end
    end)
  end)

  describe("options", function()
    it("finds the model with --model and beside the script (installed layout)", function()
      local dir = os.tmpname()
      os.remove(dir)
      local s, s2
      finally(function()
        if s then s:stop() end
        if s2 then s2:stop() end
        os.execute("rm -rf " .. fake.shell_quote(dir))
      end)
      local support = support_dir
      local models = support .. "/../../data/models/connect-2017-08-08"
      os.execute("mkdir -p " .. fake.shell_quote(dir .. "/models"))
      os.execute("cp -r " .. fake.shell_quote(support .. "/fake_connect.py") .. " "
        .. fake.shell_quote(support .. "/fake_connect") .. " " .. fake.shell_quote(dir))
      os.execute("cp -r " .. fake.shell_quote(models) .. " " .. fake.shell_quote(dir .. "/models/"))
      local saved = fake.script
      fake.script = dir .. "/fake_connect.py"
      local ok, err = pcall(function() s = fake.start{} end)
      fake.script = saved
      assert.is_true(ok, tostring(err))
      assert.are.equal(dir .. "/models/connect-2017-08-08/service-2.json", s:config().model)
      assert.are.equal(200, send1(s, { method = "GET", path = "/users-summary/x" }).status)
      s2 = fake.start{ model = dir .. "/models/connect-2017-08-08" }
      assert.are.equal(dir .. "/models/connect-2017-08-08/service-2.json", s2:config().model)
      ok, err = pcall(fake.start, { model = dir .. "/nowhere.json" })
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("not found", 1, true))
    end)

    it("adds the service's suffix to x-amzn-ErrorType with error_type_suffix", function()
      srv:config{ error_type_suffix = true }
      local r = send1(srv, { method = "GET", path = "/instance/none" })
      assert.are.equal("ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.connect/",
                       header(r, "x-amzn-ErrorType"))
    end)
  end)
end)
