#!/usr/bin/python3
"""Local stand-in for the credential endpoints the provider chain talks to.

One HTTP server on 127.0.0.1 (standard library only) plays three roles,
told apart by method and path:

  EC2 instance metadata (IMDSv2)
    PUT  /latest/api/token                         -> token (needs the TTL header)
    GET  /latest/meta-data/iam/security-credentials/       -> role name
    GET  /latest/meta-data/iam/security-credentials/<role> -> JSON credentials
  Container credentials (ECS / EKS Pod Identity)
    GET  any other path                            -> JSON credentials
  STS (query protocol, XML answers)
    POST /  Action=AssumeRole (SigV4 verified: service sts, keys from
            config "sts_secrets") or Action=AssumeRoleWithWebIdentity

Every issued credential is unique: AccessKeyId "<prefix><n>", secret
"secret-<n>", token "token-<n>", with n counting up from 1 across roles.

Control API (JSON, unsigned):
  POST /_fake/config   merge settings (see DEFAULTS below)
  GET  /_fake/config
  POST /_fake/script   {"channel": "...", "responses": [{status, body,
                       headers: {..}, delay}]} queued answers, one per request,
                       before the default behaviour; channels: imds_token,
                       imds_role, imds_creds, container, sts
  GET  /_fake/requests every request seen (method, path, channel, headers as
                       [[name, value]], body, action, signature_valid, error)
  POST /_fake/reset    forget requests, scripts and the counter; defaults back

Flags: --host (127.0.0.1), --port (0 = the OS picks), --parent-pid (exit when
that process is gone), --verbose. Prints "LISTENING <port>" when ready.
"""

import hashlib
import hmac
import urllib.parse
from http.server import BaseHTTPRequestHandler

import standin

DEFAULTS = {
    "key_prefix": "ASIAFAKE",
    "expiration": "2099-01-01T00:00:00Z",   # Expiration in every answer
    "imds_role": "fake-role",
    "imds_v2_required": True,      # role/creds requests need the token
    "imds_token_status": 200,      # e.g. 403/404/405: "no IMDSv2"
    "container_token": None,       # expected Authorization value, None: not checked
    "sts_secrets": {},             # access key id -> secret, for SigV4 checks
    "sts_region": None,            # expected signing region (None: any)
    "sts_error": None,             # {"status", "code", "message"} for every STS call
    "sts_xml_style": "standard",   # or "odd": prefixes, CDATA, entities, comments
    "web_identity_token": None,    # expected WebIdentityToken, None: any non-empty
    "account_id": "123456789012",
}


class State(standin.State):
    def __init__(self):
        standin.State.__init__(self, DEFAULTS)

    def reset(self):
        standin.State.reset(self)
        self.counter = 0
        self.tokens = set()

    def next_creds(self):
        with self.lock:
            self.counter += 1
            n = self.counter
        return {
            "AccessKeyId": "%s%04d" % (self.config["key_prefix"], n),
            "SecretAccessKey": "secret-%d" % n,
            "Token": "token-%d" % n,
            "Expiration": self.config["expiration"],
        }


STATE = State()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def verify_sigv4(method, path, headers, body, secrets, want_region):
    """Returns (ok, reason). headers: list of (name, value)."""
    auth = None
    for n, v in headers:
        if n.lower() == "authorization":
            auth = v
    if not auth:
        return False, "no Authorization header"
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "not AWS4-HMAC-SHA256"
    parts = {}
    for item in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        parts[k] = v
    try:
        akid, date, region, service, term = parts["Credential"].split("/")
    except (KeyError, ValueError):
        return False, "bad Credential"
    if service != "sts" or term != "aws4_request":
        return False, "scope is not sts/aws4_request"
    if want_region and region != want_region:
        return False, "signed for region %s" % region
    secret = secrets.get(akid)
    if secret is None:
        return False, "unknown access key"
    signed = parts.get("SignedHeaders", "").split(";")
    hmap = {}
    for n, v in headers:
        ln = n.lower()
        val = " ".join(v.strip().split())
        hmap[ln] = hmap[ln] + "," + val if ln in hmap else val
    for need in ("host", "x-amz-date"):
        if need not in signed:
            return False, "%s not signed" % need
    amz_date = hmap.get("x-amz-date", "")
    canon_headers = "".join("%s:%s\n" % (h, hmap.get(h, "")) for h in signed)
    canon_path = urllib.parse.quote(path, safe="/~")
    canonical = "\n".join([method, canon_path, "", canon_headers, ";".join(signed), sha256_hex(body)])
    scope = "/".join([date, region, service, term])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha256_hex(canonical.encode("utf-8"))])
    key = hmac_sha256(("AWS4" + secret).encode("utf-8"), date)
    key = hmac_sha256(key, region)
    key = hmac_sha256(key, service)
    key = hmac_sha256(key, term)
    sig = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, parts.get("Signature", "")):
        return False, "signature mismatch"
    return True, "ok"


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sts_success_xml(action, creds, style, account):
    arn = "arn:aws:sts::%s:assumed-role/fake/session" % account
    if style == "odd":
        # same values, unusual but valid XML: prefixes, attributes, comments,
        # CDATA, entities, other element order, blank lines
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<!-- <Credentials><AccessKeyId>WRONG</AccessKeyId></Credentials> -->\n"
            '<sts:%sResponse xmlns:sts="https://sts.amazonaws.com/doc/2011-06-15/">\r\n'
            "  <sts:%sResult>\n"
            '    <sts:AssumedRoleUser><sts:Arn>%s</sts:Arn></sts:AssumedRoleUser>\n'
            '    <sts:Credentials   kind="temporary" >\n'
            "      <sts:Expiration>%s</sts:Expiration>\n"
            "      <sts:SessionToken><![CDATA[%s]]></sts:SessionToken>\n"
            "      <sts:SecretAccessKey>%s</sts:SecretAccessKey>\n"
            '      <sts:AccessKeyId xml:space="preserve">\n        %s\n      </sts:AccessKeyId>\n'
            "    </sts:Credentials>\n"
            "  </sts:%sResult>\n"
            "</sts:%sResponse>\n"
        ) % (action, action, arn, creds["Expiration"], creds["Token"],
             xml_escape(creds["SecretAccessKey"]), creds["AccessKeyId"], action, action)
    return (
        '<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
        "  <%sResult>\n"
        "    <Credentials>\n"
        "      <AccessKeyId>%s</AccessKeyId>\n"
        "      <SecretAccessKey>%s</SecretAccessKey>\n"
        "      <SessionToken>%s</SessionToken>\n"
        "      <Expiration>%s</Expiration>\n"
        "    </Credentials>\n"
        "    <AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser>\n"
        "  </%sResult>\n"
        "  <ResponseMetadata><RequestId>req-sts-1</RequestId></ResponseMetadata>\n"
        "</%sResponse>\n"
    ) % (action, action, creds["AccessKeyId"], xml_escape(creds["SecretAccessKey"]),
         xml_escape(creds["Token"]), creds["Expiration"], arn, action, action)


def sts_error_xml(code, message):
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
        "  <Error>\n    <Type>Sender</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n"
        "  <RequestId>req-sts-err</RequestId>\n</ErrorResponse>\n"
    ) % (xml_escape(code), xml_escape(message))


class Handler(standin.HandlerMixin, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeMetadata/1.0"
    STATE = STATE
    NAME = "fake_metadata"

    # helpers ---------------------------------------------------------------
    def header(self, name):
        return self.headers.get(name)

    # roles ---------------------------------------------------------------------
    def imds(self, body):
        cfg = STATE.config
        path = self.path.split("?")[0]
        if path == "/latest/api/token":
            self.record("imds_token", body)
            if self.command != "PUT":
                return self.send(405, "")
            if self.scripted("imds_token"):
                return
            if cfg["imds_token_status"] != 200:
                return self.send(int(cfg["imds_token_status"]), "")
            ttl = self.header("x-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit():
                return self.send(400, "missing or bad TTL header")
            with STATE.lock:
                tok = "imds-token-%d" % (len(STATE.tokens) + 1)
                STATE.tokens.add(tok)
            return self.send(200, tok, headers={"x-aws-ec2-metadata-token-ttl-seconds": ttl})
        prefix = "/latest/meta-data/iam/security-credentials/"
        if not path.startswith(prefix):
            self.record("imds_other", body)
            return self.send(404, "")
        role = path[len(prefix):]
        channel = "imds_role" if role == "" else "imds_creds"
        tok = self.header("x-aws-ec2-metadata-token")
        self.record(channel, body, token=tok)
        if self.scripted(channel):
            return
        if tok is not None and tok not in STATE.tokens:
            return self.send(401, "")
        if tok is None and cfg["imds_v2_required"]:
            return self.send(401, "")
        if role == "":
            if not cfg["imds_role"]:
                return self.send(404, "")
            return self.send(200, cfg["imds_role"])
        if role != cfg["imds_role"]:
            return self.send(404, "")
        c = STATE.next_creds()
        doc = {"Code": "Success", "LastUpdated": "2024-01-01T00:00:00Z", "Type": "AWS-HMAC"}
        doc.update(c)
        return self.send_json(200, doc)

    def container(self, body):
        cfg = STATE.config
        auth = self.header("Authorization")
        self.record("container", body, authorization=auth)
        if self.scripted("container"):
            return
        want = cfg["container_token"]
        if want is not None and auth != want:
            return self.send_json(401, {"message": "bad authorization token"})
        c = STATE.next_creds()
        c["AccountId"] = cfg["account_id"]
        return self.send_json(200, c)

    def sts(self, body):
        cfg = STATE.config
        params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action")
        hdrs = list(self.headers.items())
        entry = self.record("sts", body, action=action, params=params)
        if action == "AssumeRole":
            ok, why = verify_sigv4("POST", self.path.split("?")[0], hdrs, body, cfg["sts_secrets"], cfg["sts_region"])
            entry["signature_valid"] = ok
            entry["signature_check"] = why
        if self.scripted("sts"):
            return
        if cfg["sts_error"]:
            e = cfg["sts_error"]
            return self.send(int(e.get("status", 400)), sts_error_xml(e.get("code", "AccessDenied"),
                             e.get("message", "denied")), "text/xml")
        if params.get("Version") != "2011-06-15":
            return self.send(400, sts_error_xml("InvalidParameterValue", "bad Version"), "text/xml")
        if not params.get("RoleArn") or not params.get("RoleSessionName"):
            return self.send(400, sts_error_xml("ValidationError", "RoleArn and RoleSessionName are required"),
                             "text/xml")
        if action == "AssumeRole":
            if not entry["signature_valid"]:
                return self.send(403, sts_error_xml("SignatureDoesNotMatch", entry["signature_check"]), "text/xml")
        elif action == "AssumeRoleWithWebIdentity":
            if any(n.lower() == "authorization" for n, _ in hdrs):
                return self.send(400, sts_error_xml("InvalidAction", "web identity calls are unsigned"), "text/xml")
            tok = params.get("WebIdentityToken")
            want = cfg["web_identity_token"]
            if not tok or (want is not None and tok != want):
                return self.send(400, sts_error_xml("InvalidIdentityToken", "token rejected"), "text/xml")
        else:
            return self.send(400, sts_error_xml("InvalidAction", "unknown action"), "text/xml")
        c = STATE.next_creds()
        c["SecretAccessKey"] = c["SecretAccessKey"] + ("&<x>" if cfg["sts_xml_style"] == "odd" else "")
        return self.send(200, sts_success_xml(action, c, cfg["sts_xml_style"], cfg["account_id"]), "text/xml")

    def dispatch(self):
        body = self.body()
        path = self.path.split("?")[0]
        if path.startswith("/_fake/"):
            return self.control(body)
        if path.startswith("/latest/"):
            return self.imds(body)
        if self.command == "POST":
            return self.sts(body)
        return self.container(body)

    do_GET = do_PUT = do_POST = do_DELETE = dispatch


def main():
    ap = standin.arg_parser()
    standin.serve_http(Handler, ap.parse_args(), "fake_metadata")


if __name__ == "__main__":
    main()
