#!/usr/bin/python3
"""Local stand-in for IAM Identity Center: the SSO portal and SSO-OIDC.

One HTTP server on 127.0.0.1 (standard library only) plays both, told apart
by method and path, as the real services answer (rest-json):

  SSO portal   GET  /federation/credentials?role_name=R&account_id=A
               header x-amz-sso_bearer_token; unsigned (an Authorization
               header is refused). Answers {"roleCredentials": {accessKeyId,
               secretAccessKey, sessionToken, expiration (epoch ms)}}, or
               401 UnauthorizedException for a token it does not know,
               404 ResourceNotFoundException for another account/role.
  SSO-OIDC     POST /token  JSON {clientId, clientSecret, grantType,
               refreshToken}; unsigned. grantType refresh_token with a known
               refresh token and the registered client gives a new access
               token (accepted by the portal from then on), expiresIn and,
               when rotate_refresh is on, a new refresh token.

Every issued value is unique and counts up: AccessKeyId "<key_prefix><n>",
secret "sso-secret-<n>", token "sso-session-<n>"; access tokens
"sso-access-<m>", refresh tokens "refresh-<m>".

Control API (JSON, unsigned):
  POST /_fake/config   merge settings (see DEFAULTS below)
  GET  /_fake/config
  POST /_fake/script   {"channel": "portal" | "oidc", "responses": [{status,
                       body, headers: {..}, delay}]}: queued answers, one per
                       request, before the default behaviour
  GET  /_fake/requests every request seen (method, path, channel, query,
                       headers as [[name, value]], body, json)
  POST /_fake/reset    forget requests, scripts and counters; defaults back

Flags: --host (127.0.0.1), --port (0 = the OS picks), --parent-pid (exit when
that process is gone), --verbose. Prints "LISTENING <port>" when ready.
"""

import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import standin

DEFAULTS = {
    "account_id": "111122223333",
    "role_name": "SampleRole",
    "access_tokens": ["sso-access-0"],   # bearer tokens the portal accepts
    "key_prefix": "ASIASSO",
    "creds_ttl": 3600,                   # seconds from now, unless expiration_ms
    "expiration_ms": None,               # fixed roleCredentials.expiration
    "client_id": "client-1",
    "client_secret": "client-secret-1",
    "refresh_tokens": ["refresh-0"],     # refresh tokens CreateToken accepts
    "token_ttl": 28800,                  # expiresIn of a new access token
    "rotate_refresh": True,              # answer a new refresh token
    "portal_delay": 0,                   # seconds before each portal answer
}


class State(standin.State):
    def __init__(self):
        standin.State.__init__(self, DEFAULTS)

    def reset(self):
        standin.State.reset(self)
        self.creds = 0
        self.tokens = 0


STATE = State()


class Handler(standin.HandlerMixin, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSSO/1.0"
    STATE = STATE
    NAME = "fake_sso"
    CONTENT_TYPE = "application/json"

    def extra_headers(self):
        return {"x-amzn-RequestId": "req-sso-%d" % len(STATE.requests)}

    def error(self, status, code, doc):
        self.send_json(status, doc, {"x-amzn-ErrorType": code + ":http://internal.amazon.com/fake/"})

    def signed(self):
        return any(n.lower() == "authorization" for n in self.headers.keys())

    # the portal ------------------------------------------------------------------
    def portal(self, body):
        cfg = STATE.config
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        token = self.headers.get("x-amz-sso_bearer_token")
        self.record("portal", body, query=query, token=token, signed=self.signed(), time=time.time())
        if cfg["portal_delay"]:
            time.sleep(float(cfg["portal_delay"]))
        if self.scripted("portal"):
            return
        if self.signed():
            return self.error(400, "InvalidRequestException", {"message": "GetRoleCredentials is unsigned"})
        if not query.get("role_name") or not query.get("account_id"):
            return self.error(400, "InvalidRequestException", {"message": "role_name and account_id are required"})
        if not token or token not in cfg["access_tokens"]:
            return self.error(401, "UnauthorizedException", {"message": "Session token not found or invalid"})
        if query["account_id"] != cfg["account_id"] or query["role_name"] != cfg["role_name"]:
            return self.error(404, "ResourceNotFoundException", {"message": "Could not find role"})
        with STATE.lock:
            STATE.creds += 1
            n = STATE.creds
        exp = cfg["expiration_ms"]
        if exp is None:
            exp = int((time.time() + cfg["creds_ttl"]) * 1000)
        return self.send_json(200, {"roleCredentials": {
            "accessKeyId": "%s%04d" % (cfg["key_prefix"], n),
            "secretAccessKey": "sso-secret-%d" % n,
            "sessionToken": "sso-session-%d" % n,
            "expiration": exp,
        }})

    # SSO-OIDC -------------------------------------------------------------------
    def oidc(self, body):
        cfg = STATE.config
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            doc = None
        self.record("oidc", body, json=doc, signed=self.signed())
        if self.scripted("oidc"):
            return
        if not isinstance(doc, dict) or self.signed():
            return self.error(400, "InvalidRequestException",
                              {"error": "invalid_request", "error_description": "bad request"})
        if doc.get("clientId") != cfg["client_id"] or doc.get("clientSecret") != cfg["client_secret"]:
            return self.error(401, "InvalidClientException",
                              {"error": "invalid_client", "error_description": "unknown client"})
        if doc.get("grantType") != "refresh_token":
            return self.error(400, "UnsupportedGrantTypeException",
                              {"error": "unsupported_grant_type", "error_description": "refresh_token only"})
        if doc.get("refreshToken") not in cfg["refresh_tokens"]:
            return self.error(400, "InvalidGrantException",
                              {"error": "invalid_grant", "error_description": "refresh token rejected"})
        with STATE.lock:
            STATE.tokens += 1
            m = STATE.tokens
            access = "sso-access-%d" % m
            cfg["access_tokens"].append(access)
            answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": cfg["token_ttl"]}
            if cfg["rotate_refresh"]:
                answer["refreshToken"] = "refresh-%d" % m
                cfg["refresh_tokens"].append(answer["refreshToken"])
        return self.send_json(200, answer)

    def dispatch(self):
        body = self.body()
        path = self.path.split("?")[0]
        if path.startswith("/_fake/"):
            return self.control(body)
        if path == "/federation/credentials" and self.command == "GET":
            return self.portal(body)
        if path == "/token" and self.command == "POST":
            return self.oidc(body)
        self.record("other", body)
        return self.send_json(404, {"message": "no such route"})

    do_GET = do_PUT = do_POST = do_DELETE = dispatch


def main():
    ap = standin.arg_parser(description="Local stand-in for the SSO portal and SSO-OIDC")
    standin.serve_http(Handler, ap.parse_args(), "fake_sso")


if __name__ == "__main__":
    main()
