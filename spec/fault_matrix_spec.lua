-- The fault matrix (issue 3): every fault the fake server can produce, with
-- the outcome a caller sees (result or error code, attempts), a wide
-- sanity bound on the time it took, and for creates: exactly one instance
-- on the server and one ClientToken, one invocation id, a counted
-- amz-sdk-request and a fresh signature on every attempt. The matrix is
-- printed as a table at the end. Cases live in spec/support/fault_matrix.lua.

local matrix = require("spec.support.fault_matrix")
local cjson = require("cjson")

local header_of = matrix.header_of

-- wide sanity bound: the slowest case needs ~2 s; this only catches hangs
local MAX_SECONDS = 30

describe("the fault matrix", function()
  local ctx
  local rows = {}

  setup(function()
    ctx = matrix.context()
  end)

  teardown(function()
    if ctx then ctx.stop() end
    matrix.print_table(rows)
  end)

  for _, case in ipairs(matrix.cases) do
    if not case.burst then
      local what = case.expect.ok and "succeeds" or ("fails with " .. case.expect.code)
      it(("%s: %s after %d attempt(s)"):format(case.name, what, case.attempts), function()
        local out = matrix.run(ctx, case)
        rows[#rows + 1] = matrix.row(out)

        -- outcome
        if case.expect.ok then
          assert.is_true(out.ok, "expected success, got " .. tostring(out.err))
          assert.are.equal(case.attempts, out.meta.attempts)
        else
          assert.is_false(out.ok, "expected " .. case.expect.code .. ", the call succeeded")
          local e = out.err
          assert.is_table(e, "errors are objects: " .. tostring(e))
          assert.are.equal(case.expect.code, e.code, tostring(e))
          assert.are.equal(case.expect.kind, e.kind)
          assert.are.equal(case.expect.retryable, e.retryable)
          assert.are.equal(case.attempts, e.attempts, tostring(e))
          if case.expect.message then
            assert.truthy(e.message:find(case.expect.message), e.message)
          end
          assert.is_string(tostring(e))
          assert.is_nil(tostring(e):find("\n"), "tostring(err) is one line")
        end
        assert.is_true(out.elapsed < MAX_SECONDS, ("took %.1f s"):format(out.elapsed))

        -- backoff: one recorded sleep per retry (skew retries are immediate)
        local want_delays = case.delays or (case.attempts - 1)
        assert.are.equal(want_delays, #out.delays)
        for n, d in ipairs(out.delays) do
          assert.is_true(d >= 0 and d <= 20, "delay " .. d)
          if not case.min_delay then
            assert.is_true(d < 2 ^ (n - 1), ("delay %g after attempt %d"):format(d, n))
          end
        end
        if case.min_delay then assert.is_true(out.delays[1] >= case.min_delay, tostring(out.delays[1])) end

        -- what reached the server: one logged request per attempt, each
        -- signed afresh, the same token and invocation id, counted
        local reqs = out.requests
        assert.are.equal(case.requests or case.attempts, #reqs)
        local token, invocation
        local last_date
        for i, r in ipairs(reqs) do
          assert.are.equal(("attempt=%d; max=3"):format(i), header_of(r, "amz-sdk-request"))
          local inv = header_of(r, "amz-sdk-invocation-id")
          assert.truthy(inv and inv:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"), tostring(inv))
          invocation = invocation or inv
          assert.are.equal(invocation, inv)
          -- signed afresh: later after a backoff; moved by the offset after a skew
          local date = header_of(r, "X-Amz-Date")
          if last_date and case.skew then
            assert.are_not.equal(last_date, date)
          elseif last_date then
            assert.is_true(date > last_date, date .. " after " .. last_date)
          end
          last_date = date
          if case.skew and i == 1 then
            assert.are.equal("InvalidSignatureException", r.error_code or "InvalidSignatureException")
          elseif not case.skew or i > 1 then
            assert.is_true(r.signature_valid, tostring(r.signature_error))
          end
          if (case.op or "create") == "create" then
            local body = cjson.decode(r.body)
            assert.is_string(body.ClientToken)
            token = token or body.ClientToken
            assert.are.equal(token, body.ClientToken)
          end
        end

        -- creates: exactly one instance when the call succeeded, none when
        -- the service never accepted it
        if (case.op or "create") == "create" then
          local want = case.instances or (case.expect.ok and 1 or 0)
          assert.are.equal(want, #out.instances)
          if case.expect.ok then
            assert.are.equal(out.instances[1].Id, out.result.id)
            assert.are.equal(out.meta.client_token, out.instances[1].ClientToken)
            if token then assert.are.equal(token, out.meta.client_token) end
          end
        end

        if case.skew then
          local warned = false
          for _, l in ipairs(out.logs) do if l:find("clock skew", 1, true) then warned = true end end
          assert.is_true(warned, "a skew correction is logged")
        end

        -- a broken exchange is never followed by another on its connection
        if case.fresh_connection then
          for i = 2, #reqs do
            assert.are_not.equal(reqs[i - 1].connection, reqs[i].connection,
              "attempt " .. i .. " reused the connection of a broken exchange")
          end
        end
        -- the client keeps working
        if out.followup_ok ~= nil then
          assert.is_true(out.followup_ok, "the next call fails: " .. tostring(out.followup_err))
          if case.fresh_connection and not out.ok and #reqs > 0 then
            local all = out.followup_requests
            assert.are_not.equal(reqs[#reqs].connection, all[#all].connection,
              "the next call reused the connection of a broken exchange")
          end
        end
      end)
    end
  end

  it("burst that exhausts the retry quota: 50 calls retried twice, the 51st not at all", function()
    local case
    for _, c in ipairs(matrix.cases) do if c.burst then case = c end end
    local out = matrix.run(ctx, case)
    rows[#rows + 1] = matrix.row(out)
    for i = 1, 50 do assert.are.equal("503/3", out.calls[i], "call " .. i) end
    assert.are.equal("503/1", out.calls[51])
    local last = out.errors[51]
    assert.is_true(last.quota_exhausted)
    assert.truthy(last.message:find("retry quota exhausted", 1, true))
    assert.are.equal(0, out.quota_after_burst)
    assert.is_true(out.after_ok, "a call without faults still works")
    assert.are.equal(1, out.after_meta.attempts)
    assert.are.equal(1, out.quota_after_success)    -- a success without retry refunds 1
    assert.are.equal(50 * 3 + 1, out.burst_requests)
    assert.are.equal(1, #out.requests)
    assert.are.equal(100, #out.delays)
    assert.is_true(out.elapsed < 120, ("took %.1f s"):format(out.elapsed))
  end)
end)
