"""Everything the fake Connect server remembers between requests, behind one
lock: config, instances and their tokens, tags per ARN, the ARNs it handed
out, the request log, the FIFO script queue, per-operation scripted answers
and synthesis warnings.  `reset()` returns to the start state."""

import itertools
import threading
import time

MAX_LOG = 100000      # request log entries kept (oldest dropped first)
MAX_WARNINGS = 1000


class State(object):
    def __init__(self, defaults):
        self.lock = threading.RLock()
        self.defaults = dict(defaults)
        self.conn_ids = itertools.count(1)
        self.reset()

    def reset(self):
        with self.lock:
            self.config = dict(self.defaults)
            self.config["fail_aliases"] = dict(self.defaults.get("fail_aliases") or {})
            self.instances = {}        # id -> record
            self.order = []            # ids in creation order
            self.seq = itertools.count(1)
            self.create_tokens = {}    # ClientToken -> (Id, Arn)
            self.delete_tokens = {}    # clientToken -> Id
            self.list_tokens = {}      # NextToken -> sequence number
            self.requests = []
            self.queue = []
            self.responders = {}       # operation -> [rule, ...]
            self.tags = {}             # ARN (not an instance's) -> {key: value}
            self.arns = set()          # ARNs handed out (synthesized outputs)
            self.deleted_arns = set()  # instance ARNs of deleted instances
            self.warnings = []

    def server_now(self):
        return time.time() + float(self.config.get("clock_offset") or 0)

    def log(self, entry):
        with self.lock:
            self.requests.append(entry)
            if len(self.requests) > MAX_LOG:
                del self.requests[: len(self.requests) - MAX_LOG]

    def warn(self, messages):
        with self.lock:
            self.warnings.extend(messages)
            if len(self.warnings) > MAX_WARNINGS:
                del self.warnings[: len(self.warnings) - MAX_WARNINGS]

    # -- per-operation scripted answers --------------------------------------
    def add_responder(self, rule):
        with self.lock:
            self.responders.setdefault(rule["operation"], []).append(rule)
            return len(self.responders[rule["operation"]])

    def peek_responder(self, op):
        with self.lock:
            for rule in self.responders.get(op) or ():
                if rule.get("times") is None or rule["times"] > 0:
                    return rule
            return None

    def take_responder(self, op):
        """The rule to serve for `op` now (its `times` counted down), or None."""
        with self.lock:
            rules = self.responders.get(op)
            while rules:
                rule = rules[0]
                times = rule.get("times")
                if times is None:
                    return rule
                if times <= 0:
                    rules.pop(0)
                    continue
                rule["times"] = times - 1
                if rule["times"] <= 0:
                    rules.pop(0)
                if not rules:
                    self.responders.pop(op, None)
                return rule
            self.responders.pop(op, None)
            return None

    # -- instances -----------------------------------------------------------
    def _refresh(self, rec):
        if rec["InstanceStatus"] == "CREATION_IN_PROGRESS" and \
                time.monotonic() >= rec["_ready_at"]:
            if rec["_fail_reason"] is not None:
                rec["InstanceStatus"] = "CREATION_FAILED"
                rec["StatusReason"] = {"Message": rec["_fail_reason"]}
            else:
                rec["InstanceStatus"] = "ACTIVE"

    def live(self):
        out = []
        for iid in self.order:
            rec = self.instances[iid]
            self._refresh(rec)
            out.append(rec)
        return out

    def instance_by_arn(self, arn):
        for rec in self.instances.values():
            if rec["Arn"] == arn:
                return rec
        return None
