-- The shared config/credentials file parser reads files the way the AWS CLI
-- does, including odd formatting, and reports malformed lines by number
-- without quoting them.

local ini = require("aws_connect.ini")

local function parse(text)
  local doc, err = ini.parse(text, "cfg")
  assert(doc, err)
  return doc.sections, doc.order
end

describe("ini.parse", function()
  it("reads sections and key = value pairs, lower-casing keys and trimming values", function()
    local s, order = parse("[default]\nregion = us-west-2\nOutput=json\n\n[profile dev]\n  \tregion\t=  eu-west-1   \n")
    assert.are.same({ "default", "profile dev" }, order)
    assert.are.equal("us-west-2", s.default.region)
    assert.are.equal("json", s.default.output)
    assert.are.equal("eu-west-1", s["profile dev"].region)
  end)

  it("accepts ':' as the separator and keeps the rest of the value, '=' included", function()
    local s = parse("[a]\nregion: us-east-1\ncredential_process = /bin/tool --arg=x:y\n")
    assert.are.equal("us-east-1", s.a.region)
    assert.are.equal("/bin/tool --arg=x:y", s.a.credential_process)
  end)

  it("skips full-line comments with # and ; (also indented) and inline comments after a blank", function()
    local s = parse("# top\n; also\n[default] # trailing comment\n  # indented comment\n"
      .. "region = us-east-1 # the region\nkey = abc#def\nother = x ;note\n")
    assert.are.equal("us-east-1", s.default.region)
    assert.are.equal("abc#def", s.default.key)
    assert.are.equal("x", s.default.other)
  end)

  it("tolerates CRLF line ends, a UTF-8 BOM, blank lines and blanks inside the brackets", function()
    local s = parse("\239\187\191[ default ]\r\n\r\nregion = ap-south-1\r\n\r\n[  profile   x ]\r\nregion=ca-central-1")
    assert.are.equal("ap-south-1", s.default.region)
    assert.are.equal("ca-central-1", s["profile   x"].region)
  end)

  it("reads an indented sub-section after a key without a value", function()
    local s = parse("[services local]\nconnect =\n  endpoint_url = http://127.0.0.1:4566\n"
      .. "  # comment inside\n  Other = v\nsts =\n\tendpoint_url = http://sts.local\n[default]\nregion=x\n")
    assert.are.same({ endpoint_url = "http://127.0.0.1:4566", other = "v" }, s["services local"].connect)
    assert.are.same({ endpoint_url = "http://sts.local" }, s["services local"].sts)
    assert.are.equal("x", s.default.region)
  end)

  it("joins continuation lines of a key that has a value with newlines", function()
    local s = parse("[a]\nlong = first\n   second\n   third\nnext = 1\n")
    assert.are.equal("first\nsecond\nthird", s.a.long)
    assert.are.equal("1", s.a.next)
  end)

  it("merges a section given twice, the later value of a key winning", function()
    local s, order = parse("[a]\nx = 1\ny = 2\n[b]\n[a]\nx = 3\n")
    assert.are.same({ x = "3", y = "2" }, s.a)
    assert.are.same({ "a", "b" }, order)
  end)

  it("keeps an empty value as an empty string", function()
    local s = parse("[a]\nx =\ny = 1\n")
    assert.are.equal("", s.a.x)
  end)

  it("reports a setting before any section by line number", function()
    local doc, err = ini.parse("region = us-east-1\n", "/tmp/cfg")
    assert.is_nil(doc)
    assert.are.equal("/tmp/cfg: line 1: a setting before the first [section]", err)
  end)

  it("reports a line without a separator without quoting it (it may hold a secret)", function()
    local doc, err = ini.parse("[default]\naws_secret_access_key SECRETVALUE\n", "creds")
    assert.is_nil(doc)
    assert.is_truthy(err:find("creds: line 2:", 1, true))
    assert.is_nil(err:find("SECRETVALUE", 1, true))
  end)

  it("reports an unterminated section header and an empty name", function()
    local _, e1 = ini.parse("[default\n", "f")
    assert.are.equal("f: line 1: section header without a closing ']'", e1)
    local _, e2 = ini.parse("[a]\n= value\n", "f")
    assert.are.equal("f: line 2: a value without a name", e2)
  end)

  it("reports a sub-section line without '='", function()
    local _, err = ini.parse("[services s]\nconnect =\n  endpoint_url\n", "f")
    assert.are.equal("f: line 3: expected 'name = value' in an indented sub-section", err)
  end)
end)

describe("ini.split_header", function()
  it("splits on blanks and honours quotes like shlex", function()
    assert.are.same({ "profile", "dev" }, ini.split_header("profile   dev"))
    assert.are.same({ "profile", "my profile" }, ini.split_header('profile "my profile"'))
    assert.are.same({ "profile", "it's" }, ini.split_header("profile \"it's\""))
    assert.is_nil(ini.split_header('profile "open'))
  end)
end)

describe("ini.read_file", function()
  it("gives nil without a message for a missing file", function()
    local doc, err = ini.read_file("/nonexistent/dir/config")
    assert.is_nil(doc)
    assert.is_nil(err)
  end)

  it("parses an existing file", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "wb"))
    f:write("[default]\nregion = eu-north-1\n")
    f:close()
    local doc = assert(ini.read_file(path))
    assert.are.equal("eu-north-1", doc.sections.default.region)
  end)
end)
