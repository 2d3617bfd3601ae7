"""bench/e2e_boto.py FIXTURE ENDPOINT N - botocore's row of the end-to-end
benchmark: N create_instance calls per second with botocore's Connect client
against the local nginx that bench/run.lua starts (after a warm-up).

Prints "botocore_e2e CALLS_PER_S" or "botocore_e2e skip REASON".
Debian's botocore 1.29 Connect model has CreateInstance without a Tags
member, so these calls send no tags (the Lua client sends one tag).
"""
import json
import os
import sys
import time


def main():
    fx = json.load(open(sys.argv[1]))
    endpoint, n = sys.argv[2], int(sys.argv[3])
    # no shared config or credential files, no proxies: explicit settings only
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(k, None)
    try:
        import botocore.session
    except ImportError as e:
        print("botocore_e2e skip %s" % str(e).replace("\n", " "))
        return
    session = botocore.session.get_session()
    client = session.create_client(
        "connect", region_name=fx["region"], endpoint_url=endpoint,
        aws_access_key_id=fx["access_key_id"], aws_secret_access_key=fx["secret_access_key"],
        aws_session_token=fx["session_token"])

    def call():
        r = client.create_instance(IdentityManagementType="CONNECT_MANAGED",
                                   InboundCallsEnabled=True, OutboundCallsEnabled=False,
                                   InstanceAlias="game-support")
        if r["ResponseMetadata"]["HTTPStatusCode"] != 200 or not r.get("Id"):
            raise SystemExit("botocore_e2e: unexpected response %r" % (r,))

    for _ in range(max(1, n // 10)):
        call()
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    print("botocore_e2e %.2f" % (n / (time.perf_counter() - t0)))


if __name__ == "__main__":
    main()
