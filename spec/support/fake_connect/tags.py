"""The stateful tag operations of the fake Connect server: TagResource,
UntagResource and ListTagsForResource on ARNs.  An instance's ARN reads and
writes that instance's Tags (the ones CreateInstance was given included);
any other ARN has its own tag map.  A deleted instance's ARN is
ResourceNotFoundException; so is an ARN the fake never handed out when the
config key `strict_arns` is true (by default any ARN is accepted)."""

from .errors import ApiError


def _tag_map(st, arn, create):
    """The live tag dict for `arn` (under st.lock)."""
    rec = st.instance_by_arn(arn)
    if rec is not None:
        return rec["Tags"]
    known = arn in st.tags or arn in st.arns
    if arn in st.deleted_arns or (st.config.get("strict_arns") and not known):
        raise ApiError(404, "ResourceNotFoundException",
                       "The resource %s was not found." % arn)
    if create:
        return st.tags.setdefault(arn, {})
    return st.tags.get(arn, {})


def tag_resource(st, params):
    with st.lock:
        _tag_map(st, params["resourceArn"], True).update(params["tags"])
    return {}


def untag_resource(st, params):
    with st.lock:
        tags = _tag_map(st, params["resourceArn"], False)
        for key in params["tagKeys"]:
            tags.pop(key, None)
    return {}


def list_tags_for_resource(st, params):
    with st.lock:
        tags = dict(_tag_map(st, params["resourceArn"], False))
    # the model's TagMap has at least one entry: no tags, no member
    return {"tags": tags} if tags else {}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
