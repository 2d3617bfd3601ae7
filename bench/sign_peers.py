"""bench/sign_peers.py FIXTURE ITERATIONS - the peer signing rows.

Signs bench/request.json with botocore's SigV4Auth and with awscrt's signer
(aws-c-auth), when Debian's python3-botocore / python3-awscrt are installed,
and prints one line per peer:
    botocore US signature HEX      or  botocore skip REASON
    awscrt US signature HEX        or  awscrt skip REASON
(US = mean microseconds per signature). Both sign at the fixture's time so
that their signatures can be compared with ours.

botocore: add_auth on one AWSRequest (it replaces its own X-Amz-Date,
X-Amz-Security-Token and Authorization on each call), the cheapest way to
use it. awscrt: a new HttpRequest per signature (signing adds headers to
it), the way a caller uses it; the credentials provider and the signing
config are built once.
"""
import datetime
import json
import sys
import time


def bench(fn, iters):
    for _ in range(max(1, iters // 10)):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) * 1e6 / iters


def run_botocore(fx, iters):
    try:
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError as e:
        return "botocore skip %s" % str(e).replace("\n", " ")

    fixed = datetime.datetime.utcfromtimestamp(fx["time"])

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    # botocore.auth reads datetime.datetime.utcnow(); pin it to the fixture's time.
    class FakeModule:
        datetime = FixedDatetime

    botocore.auth.datetime = FakeModule
    creds = Credentials(fx["access_key_id"], fx["secret_access_key"], fx["session_token"])
    signer = botocore.auth.SigV4Auth(creds, fx["service"], fx["region"])
    req = AWSRequest(method=fx["method"], url="https://%s%s" % (fx["host"], fx["path"]),
                     data=fx["body"].encode(), headers={"Content-Type": fx["content_type"]})

    def one():
        signer.add_auth(req)

    us = bench(one, iters)
    sig = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    return "botocore %.4f signature %s" % (us, sig)


def run_awscrt(fx, iters):
    try:
        from awscrt import auth, http
    except ImportError as e:
        return "awscrt skip %s" % str(e).replace("\n", " ")

    provider = auth.AwsCredentialsProvider.new_static(
        fx["access_key_id"], fx["secret_access_key"], fx["session_token"])
    config = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4,
        signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        credentials_provider=provider,
        region=fx["region"], service=fx["service"],
        date=datetime.datetime.fromtimestamp(fx["time"], datetime.timezone.utc))
    body = fx["body"].encode()
    path = fx["path"] + ("?" + fx["query"] if fx["query"] else "")
    last = []

    def one():
        import io
        req = http.HttpRequest(fx["method"], path, http.HttpHeaders(
            [("Host", fx["host"]), ("Content-Type", fx["content_type"])]), io.BytesIO(body))
        auth.aws_sign_request(req, config).result()
        last[:] = [req]

    us = bench(one, iters)
    sig = last[0].headers.get("Authorization").rsplit("Signature=", 1)[1]
    return "awscrt %.4f signature %s" % (us, sig)


def main():
    fx = json.load(open(sys.argv[1]))
    iters = int(sys.argv[2])
    which = sys.argv[3:] or ["botocore", "awscrt"]
    out = []
    if "botocore" in which:
        out.append(run_botocore(fx, iters))
    if "awscrt" in which:
        out.append(run_awscrt(fx, iters))
    print("\n".join(out))


if __name__ == "__main__":
    main()
