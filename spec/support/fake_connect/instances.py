"""The stateful instance operations of the fake Connect server: CreateInstance
(idempotent by ClientToken, alias uniqueness, quota, scripted failures,
CREATION_IN_PROGRESS -> ACTIVE | CREATION_FAILED after create_delay),
DescribeInstance, ListInstances (opaque page tokens) and DeleteInstance
(idempotent by clientToken).  Input arrives decoded and model-validated."""

import base64
import os
import time
import uuid

from .errors import ApiError

ACCOUNT_ID = "123456789012"


def public_instance(rec, summary=False, internal=False):
    keys = ["Id", "Arn", "IdentityManagementType", "InstanceAlias", "CreatedTime",
            "ServiceRole", "InstanceStatus", "InboundCallsEnabled",
            "OutboundCallsEnabled", "InstanceAccessUrl"]
    if not summary:
        keys += ["StatusReason", "Tags"]
    if internal:
        keys += ["ClientToken", "DirectoryId"]
    out = {}
    for k in keys:
        if rec.get(k) is not None:
            out[k] = rec[k]
    if not internal and not out.get("Tags", True):
        del out["Tags"]  # the model's TagMap has at least one entry
    return out


def create_instance(st, params):
    if params.get("IdentityManagementType") == "EXISTING_DIRECTORY" and \
            not params.get("DirectoryId"):
        raise ApiError(400, "InvalidRequestException",
                       "DirectoryId is required when IdentityManagementType is "
                       "EXISTING_DIRECTORY.")
    token = params.get("ClientToken") or None
    alias = params.get("InstanceAlias")
    with st.lock:
        cfg = st.config
        if token is not None and token in st.create_tokens:
            iid, arn = st.create_tokens[token]
            return {"Id": iid, "Arn": arn}
        live = st.live()
        if alias is not None:
            for rec in live:
                other = rec.get("InstanceAlias")
                if other is not None and other.lower() == alias.lower() and \
                        rec["InstanceStatus"] != "CREATION_FAILED":
                    raise ApiError(400, "InvalidRequestException",
                                   "Alias '%s' is already in use by instance %s."
                                   % (alias, rec["Id"]))
        quota = cfg.get("quota")
        in_use = [r for r in live if r["InstanceStatus"] != "CREATION_FAILED"]
        if quota is not None and len(in_use) >= int(quota):
            raise ApiError(402, "ServiceQuotaExceededException",
                           "The service quota has been exceeded: at most %d instances "
                           "are allowed in this account." % int(quota))
        fail_reason = None
        if cfg.get("fail_next_create") is not None:
            fail_reason = str(cfg["fail_next_create"])
            cfg["fail_next_create"] = None
        elif alias is not None and alias in (cfg.get("fail_aliases") or {}):
            fail_reason = str(cfg["fail_aliases"][alias])
        iid = str(uuid.uuid4())
        arn = "arn:aws:connect:%s:%s:instance/%s" % (cfg["region"], ACCOUNT_ID, iid)
        rec = {
            "Id": iid,
            "Arn": arn,
            "IdentityManagementType": params["IdentityManagementType"],
            "InstanceAlias": alias,
            "CreatedTime": round(st.server_now(), 3),
            "ServiceRole": "arn:aws:iam::%s:role/aws-service-role/connect.amazonaws.com/"
                           "AWSServiceRoleForAmazonConnect_%s"
                           % (ACCOUNT_ID, uuid.uuid4().hex[:20]),
            "InstanceStatus": "CREATION_IN_PROGRESS",
            "StatusReason": None,
            "InboundCallsEnabled": params["InboundCallsEnabled"],
            "OutboundCallsEnabled": params["OutboundCallsEnabled"],
            "InstanceAccessUrl": "https://%s.my.connect.aws" % (alias or iid),
            "Tags": dict(params.get("Tags") or {}),
            "ClientToken": params.get("ClientToken"),
            "DirectoryId": params.get("DirectoryId"),
            "_ready_at": time.monotonic() + float(cfg.get("create_delay") or 0),
            "_fail_reason": fail_reason,
            "_seq": next(st.seq),
        }
        st.instances[iid] = rec
        st.order.append(iid)
        if token is not None:
            st.create_tokens[token] = (iid, arn)
    return {"Id": iid, "Arn": arn}


def _not_found(iid):
    return ApiError(404, "ResourceNotFoundException", "Instance not found: %s" % iid)


def describe_instance(st, params):
    iid = params["InstanceId"]
    with st.lock:
        rec = st.instances.get(iid)
        if rec is None:
            raise _not_found(iid)
        st._refresh(rec)
        return {"Instance": public_instance(rec)}


def list_instances(st, params):
    max_results = params.get("MaxResults", 10)
    with st.lock:
        start_seq = 0
        tok = params.get("NextToken")
        if tok is not None:
            if tok not in st.list_tokens:
                raise ApiError(400, "InvalidRequestException",
                               "Invalid NextToken: the token is invalid or has expired.")
            start_seq = st.list_tokens[tok]
        items = [r for r in st.live() if r["_seq"] >= start_seq]
        page, more = items[:max_results], items[max_results:]
        out = {"InstanceSummaryList": [public_instance(r, summary=True) for r in page]}
        if more:
            # Opaque, and deliberately full of characters that need
            # percent-encoding ('+', '/', '=').
            tok = base64.b64encode(os.urandom(31)).decode("ascii")
            st.list_tokens[tok] = more[0]["_seq"]
            out["NextToken"] = tok
    return out


def delete_instance(st, params):
    iid = params["InstanceId"]
    token = params.get("ClientToken") or None
    with st.lock:
        if iid not in st.instances:
            if token is not None and st.delete_tokens.get(token) == iid:
                return {}
            raise _not_found(iid)
        rec = st.instances.pop(iid)
        st.order.remove(iid)
        st.deleted_arns.add(rec["Arn"])
        if token is not None:
            st.delete_tokens[token] = iid
    return {}


HANDLERS = {
    "CreateInstance": create_instance,
    "DescribeInstance": describe_instance,
    "ListInstances": list_instances,
    "DeleteInstance": delete_instance,
}
