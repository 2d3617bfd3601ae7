-- core.sign refuses input that could not be a real request, instead of
-- signing something no server would verify.

local core = require("aws_connect.core")

local function sign(over)
  local t = {
    method = "GET", path = "/", query = "", headers = { { "Host", "example.amazonaws.com" } },
    region = "us-east-1", service = "service", access_key_id = "AKIDEXAMPLE",
    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time = 1440938160,
  }
  for k, v in pairs(over or {}) do t[k] = v end
  return core.sign(t)
end

describe("core.sign input checks", function()
  it("signs a plain request", function()
    assert.are.equal("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", sign().signature)
  end)

  it("refuses header names that are not HTTP tokens", function()
    for _, name in ipairs({ "", "Bad Name", "a:b", "x\r\ny", "t\0" }) do
      local ok, err = pcall(sign, { headers = { { "Host", "example.amazonaws.com" }, { name, "v" } } })
      assert.is_false(ok, name)
      assert.is_truthy(tostring(err):find("invalid header name", 1, true))
    end
  end)

  it("refuses a NUL in a header value", function()
    local ok, err = pcall(sign, { headers = { { "Host", "a\0b" } } })
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("NUL", 1, true))
  end)

  it("refuses a time that is not a date", function()
    assert.is_false((pcall(sign, { time = 0 / 0 })))
    assert.is_false((pcall(sign, { time = 1e300 })))
  end)

  it("names a missing required field", function()
    local ok, err = pcall(sign, { region = false })
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("region", 1, true))
  end)

  it("with lean = true returns just authorization and amz_date, the same as the full result", function()
    local full = sign({ time = 1440938160 })
    local auth, date = sign({ time = 1440938160, lean = true })
    assert.are.equal(full.authorization, auth)
    assert.are.equal(full.amz_date, date)
    assert.are.equal("20150830T123600Z", date)
  end)
end)
