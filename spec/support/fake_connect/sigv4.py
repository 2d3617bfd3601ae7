"""SigV4 verification for the fake Connect server, done by botocore's own
signer (Debian's python3-botocore, hence /usr/bin/python3): the request is
rebuilt exactly as received and signed again; any method, any path.  The
error codes and messages are the service's (MissingAuthenticationToken,
IncompleteSignature, UnrecognizedClient, InvalidSignature)."""

import calendar
import hashlib
import hmac
import re
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from .errors import ApiError

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


class _Verifier(SigV4Auth):
    """botocore's SigV4 signer, except that the headers to sign are exactly
    the ones the client listed in SignedHeaders (botocore's client-side
    blacklist, e.g. user-agent, does not apply on the server side)."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


def _fmt_ts(epoch):
    return time.strftime(SIGV4_TIMESTAMP, time.gmtime(epoch))


def _minutes(seconds):
    m = seconds / 60.0
    return ("%d" % m) if m == int(m) else ("%g" % m)


def _wire_text(s):
    """http.server decodes the request line and headers as ISO-8859-1; a
    client that sent raw UTF-8 signed the UTF-8 text, so undo that."""
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def verify_sigv4(cfg, scheme, method, raw_path, raw_query, headers, body, now):
    """Returns a dict describing the check. Raises ApiError on failure.

    headers: list of (name, value) in received order.
    """
    info = {"canonical_request": None, "string_to_sign": None}

    def first(name):
        for k, v in headers:
            if k.lower() == name:
                return v
        return None

    auth = first("authorization")
    if auth is None or auth.strip() == "":
        raise ApiError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    m = re.match(r"^\s*(\S+)\s*(.*)$", auth, re.S)
    algorithm, rest = m.group(1), m.group(2)
    if algorithm != "AWS4-HMAC-SHA256":
        raise ApiError(403, "IncompleteSignatureException",
                       "Unsupported AWS 'algorithm': '%s'" % algorithm)
    params = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        k, sep, v = part.partition("=")
        if not sep:
            raise ApiError(403, "IncompleteSignatureException",
                           "'%s' not a valid key=value pair (missing equal-sign) in "
                           "Authorization header: '%s'." % (part, auth))
        params[k.strip()] = v.strip()
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if p not in params]
    if missing:
        raise ApiError(403, "IncompleteSignatureException",
                       " ".join("Authorization header requires '%s' parameter." % p
                                for p in missing)
                       + " Authorization=%s" % auth)
    cred = params["Credential"].split("/")
    if len(cred) != 5:
        raise ApiError(403, "IncompleteSignatureException",
                       "Credential must have exactly 5 slash-delimited elements, e.g. "
                       "keyid/date/region/service/term, got '%s'" % params["Credential"])
    akid, scope_date, scope_region, scope_service, scope_term = cred
    if akid != cfg["access_key"]:
        raise ApiError(403, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    token = first("x-amz-security-token")
    signed = [h for h in params["SignedHeaders"].split(";")]
    signed_set = set(h.lower() for h in signed)
    if cfg.get("session_token"):
        if token is None or token != cfg["session_token"]:
            raise ApiError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if "x-amz-security-token" not in signed_set:
            raise ApiError(403, "InvalidSignatureException",
                           "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS "
                           "Authorization.")
    elif token is not None:
        raise ApiError(403, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    if "host" not in signed_set:
        raise ApiError(403, "InvalidSignatureException",
                       "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                       "Authorization.")
    amz_date = first("x-amz-date")
    if amz_date is None:
        raise ApiError(403, "IncompleteSignatureException",
                       "Authorization header requires existence of either a "
                       "'X-Amz-Date' or a 'Date' header. Authorization=%s" % auth)
    amz_date = amz_date.strip()
    try:
        req_epoch = calendar.timegm(time.strptime(amz_date, SIGV4_TIMESTAMP))
        if len(amz_date) != 16:
            raise ValueError(amz_date)
    except ValueError:
        raise ApiError(403, "IncompleteSignatureException",
                       "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                       "http://en.wikipedia.org/wiki/ISO_8601" % amz_date)
    if scope_region != cfg["region"]:
        raise ApiError(403, "InvalidSignatureException",
                       "Credential should be scoped to a valid region, not '%s'. "
                       % scope_region)
    service = cfg.get("service", "connect")
    if scope_service != service:
        raise ApiError(403, "InvalidSignatureException",
                       "Credential should be scoped to correct service: '%s'. " % service)
    if scope_term != "aws4_request":
        raise ApiError(403, "InvalidSignatureException",
                       "Credential should be scoped with a valid terminator: "
                       "'aws4_request', not '%s'. " % scope_term)
    if scope_date != amz_date[:8]:
        raise ApiError(403, "InvalidSignatureException",
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                       "version of date from HTTP: '%s' != '%s', from '%s'."
                       % (scope_date, amz_date[:8], amz_date))
    max_skew = float(cfg["max_skew"])
    if req_epoch < now - max_skew:
        raise ApiError(403, "InvalidSignatureException",
                       "Signature expired: %s is now earlier than %s (%s - %s min.)"
                       % (amz_date, _fmt_ts(now - max_skew), _fmt_ts(now),
                          _minutes(max_skew)))
    if req_epoch > now + max_skew:
        raise ApiError(403, "InvalidSignatureException",
                       "Signature not yet current: %s is still later than %s (%s + %s min.)"
                       % (amz_date, _fmt_ts(now + max_skew), _fmt_ts(now),
                          _minutes(max_skew)))

    # Rebuild the request exactly as received and let botocore sign it.
    host = first("host") or "localhost"
    url = "%s://%s%s" % (scheme, host, _wire_text(raw_path))
    request = AWSRequest(method=method, url=url, data=body)
    if raw_query:
        # AWS canonicalises the query by decoding each name/value and encoding
        # it again (RFC 3986 unreserved characters kept); botocore does the
        # same from request.params and then sorts the pairs.
        pairs = []
        for pair in raw_query.split("&"):
            k, _, v = pair.partition("=")
            pairs.append((urllib.parse.unquote_plus(_wire_text(k)),
                          urllib.parse.unquote_plus(_wire_text(v))))
        request.params = pairs
    present = set()
    for name, value in headers:
        if name.lower() in signed_set:
            request.headers[name] = _wire_text(value)  # appends duplicates
            present.add(name.lower())
    absent = [h for h in signed if h.lower() not in present]
    if absent:
        raise ApiError(403, "InvalidSignatureException",
                       "Signed header(s) not present in the request: %s" % ";".join(absent))
    if "X-Amz-Content-SHA256" in request.headers:
        claimed = request.headers["X-Amz-Content-SHA256"].strip()
        if claimed != hashlib.sha256(body).hexdigest():
            raise ApiError(403, "InvalidSignatureException",
                           "The provided 'x-amz-content-sha256' header does not match "
                           "what was computed.")
    request.context["timestamp"] = amz_date
    signer = _Verifier(Credentials(cfg["access_key"], cfg["secret_key"],
                                   cfg.get("session_token")),
                       service, cfg["region"])
    canonical = signer.canonical_request(request)
    sts = signer.string_to_sign(request, canonical)
    expected = signer.signature(sts, request)
    info["canonical_request"] = canonical
    info["string_to_sign"] = sts
    given = params["Signature"]
    if not hmac.compare_digest(expected.encode("utf-8"),
                               given.encode("utf-8", "replace")):
        raise ApiError(403, "InvalidSignatureException",
                       "The request signature we calculated does not match the signature "
                       "you provided. Check your AWS Secret Access Key and signing method. "
                       "Consult the service documentation for details.\n\n"
                       "The Canonical String for this request should have been\n'%s'\n\n"
                       "The String-to-Sign should have been\n'%s'\n" % (canonical, sts),
                       {"canonical_request": canonical, "string_to_sign": sts})
    return info
