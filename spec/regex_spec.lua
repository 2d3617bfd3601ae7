-- aws_connect.regex: Java pattern semantics (find, code points, Java's $ and
-- classes), every pattern of the Connect, STS, SSO and SSO-OIDC models,
-- example()/counterexample(), compile errors, and the linear-time bound.

local regex = require("aws_connect.regex")
local cjson = require("cjson")

-- UTF-8 from code points (Lua 5.1 has no "\u{...}")
local function U(...)
  local out = {}
  for i, cp in ipairs({ ... }) do
    if cp < 0x80 then out[i] = string.char(cp)
    elseif cp < 0x800 then out[i] = string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
    elseif cp < 0x10000 then
      out[i] = string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    else
      out[i] = string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
        0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    end
  end
  return table.concat(out)
end

local function ulen(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function compile(p)
  local re, err = regex.compile(p)
  assert(re, "does not compile: " .. tostring(err))
  return re
end

local function check_cases(re, yes, no)
  for _, s in ipairs(yes or {}) do
    assert(re:test(s) == true, ("%s should match %q"):format(re.pattern, s))
  end
  for _, s in ipairs(no or {}) do
    assert(re:test(s) == false, ("%s should not match %q"):format(re.pattern, s))
  end
end

local UUID = "12345678-90ab-cdef-1234-567890abcdef"

describe("regex constructs (Java semantics, find)", function()
  local CASES = {
    { "abc", yes = { "abc", "xabcx" }, no = { "", "ab", "acb", "ABC" } },
    { "", yes = { "", "x" } },
    -- anchors: ^ start of input; $ end or before a final line terminator
    { "^abc$", yes = { "abc", "abc\n", "abc\r\n", "abc\r", "abc" .. U(0x85), "abc" .. U(0x2028) },
      no = { "xabc", "abcx", "abc\n\n", "abc\nx", "abc\n\r", "\nabc" } },
    { "^a", yes = { "a", "ab" }, no = { "ba", "\na" } },
    { "a$", yes = { "a", "ba", "a\n" }, no = { "ab", "a\n\n" } },
    { "\\Aab\\z", yes = { "ab" }, no = { "ab\n", "xab" } },
    { "ab\\Z", yes = { "ab", "ab\n" }, no = { "ab\n\n" } },
    { "^$", yes = { "", "\n" }, no = { "a", "\n\n" } },
    -- code points: . and classes take one UTF-8 code point; . skips line terminators
    { "^.$", yes = { "a", "é", "中", U(0x1F600), "\t" },
      no = { "", "ab", "\n", "\r", U(0x85), U(0x2028), U(0x2029), "é" .. "e" } },
    { "^..$", yes = { "éé", "a" .. U(0x1F600) }, no = { "é" } },
    { "^[é€]$", yes = { "é", "€" }, no = { "e", "é€" } },
    { "^[^a]$", yes = { "b", "é", U(0x1F600), "\n" }, no = { "a", "bb", "" } },
    -- escapes
    { "^a\\.b$", yes = { "a.b" }, no = { "axb" } },
    { "^\\-\\\\\\/\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$$", yes = { "-\\/*+?()[]{}|^$" } },
    { "^\\t\\n\\r\\f\\a\\e$", yes = { "\t\n\r\f\a\27" } },
    { "^\\u0041\\x42\\x{43}\\0104\\cA$", yes = { "ABCD\1" } },
    { "^\\x{1F600}$", yes = { U(0x1F600) } },
    { "^\\uD83D\\uDE00$", yes = { U(0x1F600) }, no = { "?" } },
    { "^\\u10000$", yes = { U(0x1000) .. "0" }, no = { U(0x10000) } },      -- \u takes exactly 4 hex digits
    { "^\\Q.*+\\E$", yes = { ".*+" }, no = { "a" } },
    { "^a\\Qb", yes = { "ab" }, no = { "a" } },
    -- predefined classes are ASCII (Java without UNICODE_CHARACTER_CLASS)
    { "^\\d+$", yes = { "0123456789" }, no = { U(0x663), "a", "" } },
    { "^\\D$", yes = { "a", U(0x663) }, no = { "5" } },
    { "^\\s+$", yes = { " \t\n\r\f\11" }, no = { U(0xA0), U(0x2028), "a" } },
    { "^\\S$", yes = { "a", U(0xA0) }, no = { " ", "\t" } },
    { "^\\w+$", yes = { "azAZ09_" }, no = { "é", "-" } },
    { "^\\W$", yes = { "é", "-", " " }, no = { "a", "_" } },
    -- classes: ranges, negation, nested escapes, literal '-' and ']'
    { "^[a-cx-z]+$", yes = { "abcxyz" }, no = { "d", "w" } },
    { "^[^\\s]+$", yes = { "ab" }, no = { "a b", "\t" } },
    { "^[\\w-]+$", yes = { "a-b_c" }, no = { "a.b" } },
    { "^[-a]$", yes = { "-", "a" }, no = { "b" } },
    { "^[a-]$", yes = { "-", "a" }, no = { "b" } },
    { "^[]a]$", yes = { "]", "a" }, no = { "b" } },
    { "^[+-=]$", yes = { "+", ",", "-", ".", "/", "5", ":", ";", "<", "=" }, no = { ">", "*" } },
    { "^[a-zA-Z0-9-_]+$", yes = { "a-_Z9" }, no = { "." } },
    { "^[a[bc]]+$", yes = { "abc" }, no = { "d" } },
    { "^[$]$", yes = { "$" }, no = { "a" } },
    { "^[\\x20-\\x21]$", yes = { " ", "!" }, no = { "\"" } },
    { "^[\\W\\S_]*$", yes = { "", "a b", "\n" } },
    { "^[\\p{L}\\p{N}]+$", yes = { "abc123", "ж٣" }, no = { "a b", "_" } },
    -- Unicode general categories
    { "^\\p{L}$", yes = { "a", "É", "ж", "中", U(0x10400) }, no = { "1", "!", " ", U(0x301) } },
    { "^\\pL$", yes = { "a" }, no = { "1" } },
    { "^\\p{Lu}$", yes = { "A", "É" }, no = { "a", "1" } },
    { "^\\p{Ll}$", yes = { "a", "é" }, no = { "A" } },
    { "^\\p{IsLu}\\p{gc=Ll}\\p{general_category=Nd}$", yes = { "Aa1" } },
    { "^\\p{N}$", yes = { "1", U(0x663), U(0xBD), U(0x2162) }, no = { "a" } },
    { "^\\p{Nd}$", yes = { "1", U(0x663) }, no = { U(0xBD) } },
    { "^\\p{Z}$", yes = { " ", U(0xA0), U(0x2028), U(0x2029), U(0x3000) }, no = { "\t", "\n", "a" } },
    { "^\\p{Zs}$", yes = { " " }, no = { U(0x2028) } },
    { "^\\p{P}$", yes = { "!", "-", U(0xBF), U(0x3001) }, no = { "+", "a" } },
    { "^\\p{S}$", yes = { "+", "$", U(0x20AC), U(0x1F600) }, no = { "!", "a" } },
    { "^\\p{Sc}$", yes = { "$", U(0x20AC) }, no = { "+" } },
    { "^\\p{M}$", yes = { U(0x301), U(0x903) }, no = { "a" } },
    { "^\\p{C}$", yes = { "\1", "\127", U(0x200B), U(0xE000), U(0x378), U(0x10FFFF) }, no = { "a", " " } },
    { "^\\p{Cn}$", yes = { U(0x378) }, no = { U(0x200B) } },
    { "^\\P{C}+$", yes = { "abc é 中" .. U(0x1F600) }, no = { "a\1", U(0x200B), U(0x378) } },
    { "^[^\\p{L}]$", yes = { "1", " " }, no = { "a", "é" } },
    { "^\\P{L}$", yes = { "1" }, no = { "a" } },
    -- POSIX names are US-ASCII in Java
    { "^\\p{Alnum}+$", yes = { "aZ9" }, no = { "é", "_" } },
    { "^\\p{Alpha}\\p{Digit}\\p{Upper}\\p{Lower}\\p{XDigit}$", yes = { "a1Bcf" }, no = { "a1bcf" } },
    { "^\\p{Punct}+$", yes = { "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" }, no = { "a", " ", U(0xBF) } },
    { "^\\p{ASCII}+$", yes = { "\0\127" }, no = { "é" } },
    { "^\\p{Space}\\p{Blank}\\p{Cntrl}$", yes = { "\n \1" } },
    { "^\\p{Graph}\\p{Print}$", yes = { "a " }, no = { " a" } },
    -- groups, alternation
    { "^(ab|cd)+$", yes = { "ab", "cdab" }, no = { "abc", "" } },
    { "^(?:a|b)c$", yes = { "ac", "bc" }, no = { "cc" } },
    { "^(|a)$", yes = { "", "a" }, no = { "b" } },
    { "^(?<name>a)b$", yes = { "ab" } },
    { "a|^b", yes = { "xa", "b" }, no = { "xb" } },
    -- quantifiers and their lazy forms (same language)
    { "^a*$", yes = { "", "aaa" }, no = { "b" } },
    { "^a+$", yes = { "a", "aa" }, no = { "" } },
    { "^ab?c$", yes = { "ac", "abc" }, no = { "abbc" } },
    { "^a{2}$", yes = { "aa" }, no = { "a", "aaa" } },
    { "^a{2,}$", yes = { "aa", "aaaaa" }, no = { "a" } },
    { "^a{2,3}$", yes = { "aa", "aaa" }, no = { "a", "aaaa" } },
    { "^a{0}b$", yes = { "b" }, no = { "ab" } },
    { "^a*?b+?c??d{1,2}?$", yes = { "bd", "aabbcdd" }, no = { "ad" } },
    { "^(a?)*$", yes = { "", "aaa" }, no = { "b" } },
    { "^(a*)*b$", yes = { "b", "aab" }, no = { "aa" } },
    { "^(é|ab){2}$", yes = { "éab", "éé" }, no = { "é" } },
    -- look-ahead
    { "^(?!aws:)\\w", yes = { "Aws:x", "x" }, no = { "aws:x" } },
    { "^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)[a-zA-Z\\d\\S]{8,64}$",
      yes = { "Passw0rd", "aB3!aB3!" }, no = { "password1", "PASSWORD1", "Password", "Pa1", "Pass w0rd" } },
    { "a(?=b)", yes = { "ab", "xxab" }, no = { "a", "ac", "ba" } },
    { "a(?!b)", yes = { "a", "ab a", "ac" }, no = { "ab", "abab" } },
    { "^(?!\\.$)[.a]+$", yes = { "..", "a" }, no = { "." } },
    { "(?=x)", yes = { "x", "ax" }, no = { "", "a" } },
    { "^(?=a$)", yes = { "a", "a\n" }, no = { "ab" } },
    { "(?!a)", yes = { "", "a", "b" } },
  }
  for _, c in ipairs(CASES) do
    it(("%q matches what Java's find() matches"):format(c[1]), function()
      check_cases(compile(c[1]), c.yes, c.no)
    end)
  end

  it("reads a malformed UTF-8 byte as U+FFFD, one code point", function()
    check_cases(compile("^.$"), { "\255", "\192", U(0xFFFD) }, { "\255\255" })
    check_cases(compile("^[a-z]$"), {}, { "\255" })
  end)

  it("keeps its DFA cache bounded and its answers right when a pattern has exponentially many states", function()
    local re = compile("^(a|b)*a(a|b){12}$")
    local rnd = 7
    local parts = {}
    for i = 1, 4000 do
      rnd = (rnd * 16807) % 2147483647
      parts[i] = rnd % 2 == 0 and "a" or "b"
    end
    local s = table.concat(parts)
    local want = s:sub(-13, -13) == "a"
    assert.are.equal(want, re:test(s))
    assert.are.equal(not want, re:test(s:sub(1, -14) .. (want and "b" or "a") .. s:sub(-12)))
    assert.is_true(re._main.nstates <= 1500)
  end)
end)

describe("regex compile errors", function()
  local ERRORS = {
    { "(a)\\1", "back%-reference", 3 },
    { "\\k<x>", "back%-reference", 0 },
    { "(?<=a)b", "look%-behind", 0 },
    { "x(?<!a)b", "look%-behind", 1 },
    { "a++", "possessive", 2 },
    { "a{2}+", "possessive", 4 },
    { "(?i)abc", "inline flags", 0 },
    { "(?i:abc)", "inline flags", 0 },
    { "(?>a)", "atomic group", 0 },
    { "a{1001}", "limit of 1000", 1 },
    { "a{0,1001}", "limit of 1000", 1 },
    { "a{3,2}", "illegal repetition range", 1 },
    { "a{x}", "illegal repetition", 1 },
    { "(ab", "unclosed group", 0 },
    { "ab)", "unmatched %)", 2 },
    { "[ab", "unclosed character class", 0 },
    { "[z-a]", "illegal character range", 2 },
    { "[a-\\d]", "illegal character range", 2 },
    { "*a", "dangling quantifier", 0 },
    { "a**", "dangling quantifier", 2 },
    { "{2}", "dangling repetition", 0 },
    { "\\p{Foo}", "unsupported property \\p{Foo}", 0 },
    { "\\P{IsLatin}", "unsupported property", 0 },
    { "a\\b", "word boundary", 1 },
    { "\\y", "unknown escape", 0 },
    { "ab\\", "trailing backslash", 2 },
    { "[a&&b]", "intersection", 2 },
    { "\\u12", "4 hex digits", 0 },
    { "(?=.*a)b", "unbounded body", 0 },
    { "x(?!.*a)", "unbounded body", 1 },
    { "^a(?=b*)", "unbounded body", 2 },
    { "(?=(?=a))", "look%-ahead inside a look%-ahead", 3 },
    { "(a{1000}){1000}", "too large", nil },
    { "a\255", "invalid UTF%-8", 1 },
  }
  for _, e in ipairs(ERRORS) do
    it(("refuses %q, naming the construct and its offset"):format(e[1]), function()
      local re, err = regex.compile(e[1])
      assert.is_nil(re)
      assert.is_string(err)
      assert(err:find(e[2]), ("message %q should mention %q"):format(err, e[2]))
      if e[3] then
        assert(err:find("at offset " .. e[3], 1, true), ("message %q should name offset %d"):format(err, e[3]))
      end
    end)
  end

  it("refuses a non-string pattern with a message", function()
    local re, err = regex.compile(42)
    assert.is_nil(re)
    assert.is_string(err)
  end)
end)

describe("regex.unescape_model", function()
  it("un-doubles a backslash before a Java escape character", function()
    assert.are.equal([[.*\S.*]], regex.unescape_model([[.*\\S.*]]))
    assert.are.equal([[\+[1-9]\d{1,14}$]], regex.unescape_model([[\\+[1-9]\\d{1,14}$]]))
    assert.are.equal([[^[\P{C}\r\n\t]*$]], regex.unescape_model([[^[\\P{C}\r\n\t]*$]]))
    assert.are.equal([[^(?!\.$)(?!\.\.$)[\p{L}\-_]+$]], regex.unescape_model([[^(?!\\.$)(?!\\.\\.$)[\\p{L}\\-_]+$]]))
    assert.are.equal([[s3://\S+/.+|https://\S+\.s3\.]], regex.unescape_model([[s3://\S+/.+|https://\\S+\\.s3\\.]]))
  end)

  it("keeps a doubled literal backslash and a backslash before anything else", function()
    assert.are.equal([[a\\b]], regex.unescape_model([[a\\\\b]]))
    assert.are.equal([[a\\ b]], regex.unescape_model([[a\\ b]]))
    assert.are.equal([[a\\]], regex.unescape_model([[a\\]]))
  end)

  it("leaves single-backslash patterns unchanged", function()
    for _, p in ipairs({ [[^\P{C}*$]], [[\+[1-9]\d{1,14}$]], [[[\u0009\u000A]+]], "abc" }) do
      assert.are.equal(p, regex.unescape_model(p))
    end
  end)
end)

describe("regex.compile_cached", function()
  it("returns the same object for the same pattern and errors like compile", function()
    local a = regex.compile_cached("^[a-z]+$")
    assert.are.equal(a, regex.compile_cached("^[a-z]+$"))
    assert.are_not.equal(a, regex.compile_cached("^[a-z]*$"))
    assert.are.equal("^[a-z]+$", a.pattern)
    local re, err = regex.compile_cached("(?<=x)")
    assert.is_nil(re)
    assert.matches("look%-behind", err)
  end)

  it("loads the engine only on the first compile and the Unicode tables only for \\p", function()
    local saved = {}
    local names = { "aws_connect.regex", "aws_connect.regex.engine", "aws_connect.regex.unicode",
      "aws_connect.regex.generate" }
    for _, n in ipairs(names) do saved[n] = package.loaded[n]; package.loaded[n] = nil end
    local ok, err = pcall(function()
      local fresh = require("aws_connect.regex")
      assert.is_nil(package.loaded["aws_connect.regex.engine"])
      fresh.compile("^[a-z]+\\d$")
      assert.is_not_nil(package.loaded["aws_connect.regex.engine"])
      assert.is_nil(package.loaded["aws_connect.regex.unicode"])
      fresh.compile("^\\p{L}$")
      assert.is_not_nil(package.loaded["aws_connect.regex.unicode"])
    end)
    for _, n in ipairs(names) do package.loaded[n] = saved[n] end
    assert(ok, err)
  end)
end)

---------------------------------------------------------------------------
-- Every pattern of the models

local MODELS = { "connect-2017-08-08", "sts-2011-06-15", "sso-2019-06-10", "sso-oidc-2019-06-10" }

local function read_models()
  local shapes = {}     -- { model, name, pattern (unescaped), raw, min, max }
  for _, m in ipairs(MODELS) do
    local f = assert(io.open("data/models/" .. m .. "/service-2.json", "rb"))
    local doc = cjson.decode(f:read("*a"))
    f:close()
    local names = {}
    for name in pairs(doc.shapes) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local sh = doc.shapes[name]
      if sh.pattern then
        shapes[#shapes + 1] = {
          model = m, name = name, raw = sh.pattern, pattern = regex.unescape_model(sh.pattern),
          min = sh.min, max = sh.max,
        }
      end
    end
  end
  return shapes
end

local SHAPES = read_models()

local function distinct_patterns()
  local seen, out = {}, {}
  for _, sh in ipairs(SHAPES) do
    if not seen[sh.pattern] then seen[sh.pattern] = true; out[#out + 1] = sh.pattern end
  end
  return out
end

local CONNECT_ARN = "arn:aws:connect:us-east-1:123456789012:instance/" .. UUID
local TDG_ARN = "arn:aws:connect:us-west-2:123456789012:traffic-distribution-group/" .. UUID

-- Positive and negative cases for each (un-doubled) model pattern.
-- luacheck: push ignore 631
local MODEL_CASES = {
  [ [=[(?!aws:|connect:)[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]+$]=] ] = {
    -- the look-ahead is not anchored: find() matches "ws:x" inside "aws:x"
    yes = { "key", "é", "tab\there", "aws:x", "connect:" }, no = { "", "\1", U(0x20AC), "a" .. U(0x20AC) } },
  [ [=[(^[\S].*[\S]$)|(^[\S]$)]=] ] = { yes = { "a", "ab", "a b", "a b\n" }, no = { "", " a", "a ", "a\nb", " " } },
  [ [=[.*]=] ] = { yes = { "", "anything", "\n" } },
  [ [=[.*\S.*]=] ] = { yes = { "a", " a ", "\n\na" }, no = { "", "   ", "\t\n" } },
  -- the model writes this one between slashes, which Java reads as literal '/': it matches nothing
  [ [=[/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[a-zA-Z\d\S]{8,64}$/]=] ] = {
    yes = {}, no = { "Passw0rd1", "/Passw0rd1/", "/^Passw0rd1$/", "" } },
  [ [=[[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]+$]=] ] = { yes = { "a", "ab\n", "ÿ" }, no = { "", U(0x20AC), "a" .. U(0x20AC) } },
  [ [=[[^\s@]+@[^\s@]+\.[^\s@]+]=] ] = { yes = { "a@b.c", "x a@b.c y" }, no = { "a@b", "@b.c", "a@.c", "a@b c.d" } },
  [ [=[[a-z]{2}(-[a-z]+){1,2}(-[0-9])?]=] ] = { yes = { "us-east-1", "us-west", "eu-central-1" }, no = { "us", "u-east", "US-EAST-1" } },
  -- find(): "\+1..." contains "+1..."; '$' anchors only the end
  [ [=[\+[1-9]\d{1,14}$]=] ] = { yes = { "+12065550100", "+44", "+123456789012345", "\\+12065550100" },
    no = { "12065550100", "+02065550100", "+1", "+1234567890123456", "+1 206", "+12065550100x" } },
  [ [=[\+?[0-9]{1,11}]=] ] = { yes = { "123", "+1", "abc1" }, no = { "", "abc", "+" } },
  [ [=[^$|^[\p{L}\p{Z}\p{N}\-_.:=@'|]{3,}$]=] ] = { yes = { "", "abc", "a b", "héllo", "it's|x" }, no = { "ab", "a/b", "a!c" } },
  [ [=[^(?!\.$)(?!\.\.$)[\p{L}\p{Z}\p{N}\-_.:=@'|]+$]=] ] = { yes = { "a", "...", ".a", "a.." }, no = { ".", "..", "", "a/b" } },
  -- the model's look-ahead is case-sensitive: "Aws:" passes here
  [ [=[^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$]=] ] = {
    yes = { "", "Aws:x", "AWS:x", "key/1=a+b-c@d", "ключ", "aws", "x aws:" }, no = { "aws:x", "aws:", "a!", "a\1" } },
  [ [=[^(?!aws:)[a-zA-Z+-=._:/]+$]=] ] = { yes = { "Key-1", "a;b<c", "Aws:x", "a,b" }, no = { "aws:x", "", "a b", "a>b", "a?" } },
  [ [=[^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$]=] ] = {
    yes = { "my-instance", "a--b", "d", "dx-1", "D-abc", "d1-a" }, no = { "d-abc", "-a", "a-", "", "a_b" } },
  [ [=[^([$0-9a-zA-Z][_-]?)+$]=] ] = { yes = { "a", "a_b-c", "$x", "a_" }, no = { "_a", "a__b", "", "a b" } },
  [ [=[^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|(arn:[a-z0-9-]+:connect:[a-z0-9-]+:(?:([0-9]{12}):instance/[a-z0-9-]+/metric/[a-z0-9-]+(?::[a-z0-9-]+)?|aws:metric/[A-Z_]+))$]=] ] = {
    yes = { UUID, UUID .. "trailing", "arn:aws:connect:us-east-1:123456789012:instance/abc/metric/def",
      "arn:aws:connect:us-east-1:123456789012:instance/abc/metric/def:x1",
      "x arn:aws:connect:us-east-1:aws:metric/AGENTS_ONLINE" },
    no = { "1234", "arn:aws:connect:us-east-1:123:instance/abc/metric/def", "arn:aws:connect:us-east-1:aws:metric/lower",
      "x" .. UUID } },
  [ [=[^([\p{L}\p{N}_.:\/=+\-@()']+[\p{L}\p{Z}\p{N}_.:\/=+\-@()']*)$]=] ] = { yes = { "a", "a b", "(x)'y", "é" }, no = { " a", "", "a!", "a,b" } },
  [ [=[^([\p{L}\p{N}_.:\/=+\-@,()']+[\p{L}\p{Z}\p{N}_.:\/=+\-@,()']*)$]=] ] = { yes = { "a,b", ",", "a b" }, no = { " a", "a;b", "" } },
  [ [=[^([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)$]=] ] = { yes = { "", "a b", "x/y" }, no = { "a!", "a,b" } },
  [ [=[^(arn:(aws|aws-us-gov):connect:[a-z]{2}-[a-z-]+-[0-9]{1}:[0-9]{1,20}:traffic-distribution-group/)?[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$]=] ] = {
    yes = { UUID, TDG_ARN, "arn:aws-us-gov:connect:us-gov-west-1:1:traffic-distribution-group/" .. UUID },
    no = { UUID:upper(), "x" .. UUID, "arn:aws:connect:us-east-1:123:instance/" .. UUID, "arn:aws-cn:connect:cn-north-1:1:traffic-distribution-group/" .. UUID } },
  [ [=[^(arn:(aws|aws-us-gov):connect:[a-z]{2}-[a-z]+-[0-9]{1}:[0-9]{1,20}:instance/)?[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$]=] ] = {
    yes = { UUID, CONNECT_ARN }, no = { "arn:aws:connect:us-gov-west-1:1:instance/" .. UUID, UUID .. "x", "instance/" .. UUID } },
  [ [=[^.*[\S]$]=] ] = { yes = { "a", " a", "a\n" }, no = { "", "a ", "\n", "a\nb " } },
  [ [=[^[ a-zA-Z0-9_@-]+$]=] ] = { yes = { "a b_c@d-e" }, no = { "", "a.b" } },
  [ [=[^[-:/A-Za-z0-9]+]=] ] = { yes = { "a", "a:b/c-d", "abc!!!" }, no = { "", "!abc", " a" } },
  [ [=[^[0-9a-zA-Z._-]+]=] ] = { yes = { "a.b", "a!" }, no = { "!a", "" } },
  [ [=[^[1-5][0-9]{2}$]=] ] = { yes = { "200", "599" }, no = { "600", "20", "2000", "099" } },
  [ [=[^[A-Za-z0-9:/]*$]=] ] = { yes = { "", "a:/b" }, no = { "a-b" } },
  [ [=[^[\P{C}\r\n\t]{1,127}$]=] ] = { yes = { "a", "é\t\n", ("a"):rep(127) }, no = { "", ("a"):rep(128), "\1", U(0x200B) } },
  [ [=[^[\P{C}\r\n\t]{1,250}$]=] ] = { yes = { ("é"):rep(250) }, no = { ("a"):rep(251), U(0xE000) } },
  [ [=[^[\W\S_]*]=] ] = { yes = { "", "anything at all", "\1\n" } },
  [ [=[^[\P{C}\r\n\t]*$]=] ] = { yes = { "", "a\tb\nc" }, no = { "\1", "a\127", U(0x378) } },
  [ [=[^[\P{C}\r\n\t]+$]=] ] = { yes = { "x", "line one\nline two" }, no = { "", "\0" } },
  -- Java's $ matches before a final line terminator, so "a\n" passes
  [ [=[^[\P{C}]*$]=] ] = { yes = { "", "abc", "a\n" }, no = { "a\nb", "\t", "a\r\n\n" } },
  [ [=[^[\p{L}\p{Z}\p{N}\-_.:=@'|]+$]=] ] = { yes = { "a-b", "x y" }, no = { "", "a/b" } },
  [ [=[^[\x20-\x21\x23-\x5B\x5D-\x7E]*$]=] ] = { yes = { "", "abc !" }, no = { "\"", "\\", "é", "\t" } },
  [ [=[^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$]=] ] = { yes = { UUID }, no = { UUID:upper(), UUID .. "0", "" } },
  [ [=[^[a-zA-Z0-9-_]+$]=] ] = { yes = { "a-b_c" }, no = { "a.b", "" } },
  [ [=[^[a-zA-Z0-9=\/+_.-]+$]=] ] = { yes = { "a/b+c=", "x.y-z_" }, no = { "a b", "" } },
  [ [=[^[a-zA-Z0-9\_\-:\/$]+$]=] ] = { yes = { "a$b", "a:b/c" }, no = { "a b", "" } },
  [ [=[^[a-zA-Z0-9\_\-:\/]+$]=] ] = { yes = { "a_b", "a:b/c-d" }, no = { "a$b", "" } },
  [ [=[^[a-zA-Z0-9]$]=] ] = { yes = { "a", "Z" }, no = { "ab", "", "-" } },
  [ [=[^[a-zA-Z0-9]{64}$]=] ] = { yes = { ("a1"):rep(32) }, no = { ("a"):rep(63), ("a"):rep(65), ("a"):rep(63) .. "-" } },
  [ [=[^[a-zA-Z0-9_ -]+$]=] ] = { yes = { "a b-c_d" }, no = { "a.b", "" } },
  [ [=[^[a-zA-Z0-9_-]+$]=] ] = { yes = { "a-b" }, no = { "a b", "" } },
  [ [=[^\P{C}*$]=] ] = { yes = { "", "héllo wörld" }, no = { "\1", U(0xE000), U(0x378), "a" .. U(0x200B) } },
  [ [=[^\d{4}-\d{2}-\d{2}$]=] ] = { yes = { "2024-01-31" }, no = { "2024-1-31", U(0x662, 0x660, 0x662, 0x664) .. "-01-31" } },
  [ [=[^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z?$]=] ] = {
    yes = { "2024-01-31T12:00:00Z", "2024-01-31T12:00:00.123", "2024-01-31T12:00:00" },
    no = { "2024-01-31 12:00:00", "2024-01-31T12:00:00.1Z", "2024-01-31T12:00Z" } },
  [ [=[^arn:(aws|aws-us-gov):connect:[a-z]{2}-[a-z]+-[0-9]{1}:[0-9]{1,20}:traffic-distribution-group/[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$]=] ] = {
    yes = { TDG_ARN }, no = { UUID, "x" .. TDG_ARN, TDG_ARN:gsub("traffic", "traffik") } },
  [ [=[^d-[0-9a-f]{10}$]=] ] = { yes = { "d-1234567890", "d-abcdef0123" }, no = { "d-123456789", "D-1234567890", "d-12345678901" } },
  [ [=[arn:(aws|aws-us-gov):connect:[a-z]{2}-[a-z]+-[0-9-]{1}:[0-9]{1,20}:instance/[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}]=] ] = {
    yes = { CONNECT_ARN, "prefix " .. CONNECT_ARN .. " suffix", "arn:aws-us-gov:connect:us-gov-1:1:instance/" .. UUID },
    no = { "arn:aws:connect:us-east-1:123:instance/not-a-uuid", UUID } },
  [ [=[s3://\S+/.+|https://\S+\.s3\.\S+\.amazonaws\.com/\S+]=] ] = {
    yes = { "s3://bucket/key", "https://b.s3.us-east-1.amazonaws.com/k" },
    no = { "s3://bucket", "https://example.com/x", "http://b.s3.x.amazonaws.com/k", "s3:// /x" } },
  -- STS
  [ [=[[\d]*]=] ] = { yes = { "", "abc", "123" } },
  [ [=[[\p{L}\p{Z}\p{N}_.:/=+\-@]*]=] ] = { yes = { "", "!!", "tag value" } },
  [ [=[[\p{L}\p{Z}\p{N}_.:/=+\-@]+]=] ] = { yes = { "a", "!a", "é" }, no = { "", "!!", "\1" } },
  -- "\u10000-\u10FFFF" is, in Java, U+1000, then '0'-U+10FF, then "FF": no supplementary characters
  [ [=[[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+]=] ] = {
    yes = { "a", "é", U(0x85), U(0xFFFD), "a" .. U(0x1F600) }, no = { "", "\1", U(0x1F600), U(0x10000) } },
  [ [=[[\u0009\u000A\u000D\u0020-\u00FF]+]=] ] = { yes = { "a", "ÿ" }, no = { "", U(0x20AC), "\1" } },
  [ [=[[\w+=,.@-]*]=] ] = { yes = { "", "!!", "role-name" } },
  [ [=[[\w+=,.@:-]*]=] ] = { yes = { "", "!!", "user@example.com" } },
  [ [=[[\w+=,.@:\/-]*]=] ] = { yes = { "", "!!", "user@example.com" } },
  [ [=[[\w+=,.@\:-]*]=] ] = { yes = { "", "!!", "user@example.com" } },
  [ [=[[\w+=/:,.@-]*]=] ] = { yes = { "", "!!", "user@example.com" } },
  [ [=[[\w]*]=] ] = { yes = { "", "!!", "a_1" } },
}
-- luacheck: pop

-- Patterns that match every string (counterexample() is nil) and the one that matches none.
local MATCHES_ALL = {
  [".*"] = true, ["^[\\W\\S_]*"] = true, ["[\\d]*"] = true, ["[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"] = true,
  ["[\\w+=,.@-]*"] = true, ["[\\w+=,.@:-]*"] = true, ["[\\w+=,.@:\\/-]*"] = true, ["[\\w+=,.@\\:-]*"] = true,
  ["[\\w+=/:,.@-]*"] = true, ["[\\w]*"] = true,
}
local MATCHES_NONE = { ["/^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)[a-zA-Z\\d\\S]{8,64}$/"] = true }

describe("regex on the model patterns", function()
  it("reads every pattern of the Connect, STS, SSO and SSO-OIDC models", function()
    assert.is_true(#SHAPES >= 60)
    local doubled = {}
    for _, sh in ipairs(SHAPES) do
      if sh.raw ~= sh.pattern then doubled[sh.raw] = true end
    end
    local n = 0
    for _ in pairs(doubled) do n = n + 1 end
    assert.are.equal(9, n)                  -- the model's nine doubled-backslash patterns
  end)

  it("compiles every pattern of the models", function()
    for _, sh in ipairs(SHAPES) do
      local re, err = regex.compile(sh.pattern)
      assert(re, ("%s %s: %s"):format(sh.model, sh.name, tostring(err)))
    end
  end)

  it("has positive and negative cases for every distinct model pattern", function()
    for _, p in ipairs(distinct_patterns()) do
      local c = MODEL_CASES[p]
      assert(c, "no cases for model pattern " .. p)
      assert(#(c.yes or {}) + #(c.no or {}) >= 3, "fewer than 3 cases for " .. p)
      if not MATCHES_ALL[p] then assert(#(c.no or {}) >= 1, "no negative case for " .. p) end
      if not MATCHES_NONE[p] then assert(#(c.yes or {}) >= 1, "no positive case for " .. p) end
    end
  end)

  for _, p in ipairs(distinct_patterns()) do
    it(("matches the model pattern %q like Java"):format(p), function()
      local c = MODEL_CASES[p] or {}
      check_cases(compile(p), c.yes, c.no)
    end)
  end

  -- one shape per distinct (pattern, min, max)
  local function bounded_shapes()
    local seen, out = {}, {}
    for _, sh in ipairs(SHAPES) do
      local key = sh.pattern .. "\0" .. tostring(sh.min) .. "\0" .. tostring(sh.max)
      if not seen[key] then seen[key] = true; out[#out + 1] = sh end
    end
    return out
  end

  it("gives examples that match, within the model's bounds, deterministically", function()
    for _, sh in ipairs(bounded_shapes()) do
      local re = compile(sh.pattern)
      local tries = { { sh.min, sh.max }, { nil, nil }, { sh.min, sh.min } }
      if sh.max and sh.max <= 4096 then tries[#tries + 1] = { sh.max, sh.max } end
      for ti, b in ipairs(tries) do
        for seed = 1, 3 do
          local ex = re:example(b[1], b[2], seed)
          local where = ("%s %s [%s,%s] seed %d"):format(sh.model, sh.name, tostring(b[1]), tostring(b[2]), seed)
          if MATCHES_NONE[sh.pattern] then
            assert(ex == nil, where .. ": expected no example")
          elseif ti <= 2 then
            assert(ex, where .. ": no example for " .. sh.pattern)
          end
          if ex then
            assert(re:test(ex), where .. (": example %q does not match"):format(ex))
            assert(ulen(ex) >= (b[1] or 0) and ulen(ex) <= (b[2] or math.huge), where .. ": out of bounds")
            assert.are.equal(ex, re:example(b[1], b[2], seed))
          end
        end
      end
    end
  end)

  it("prefers plain ASCII letters and digits in examples", function()
    local ex = compile("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$"):example(12, 12, 5)
    assert.matches("^[A-Za-z0-9]+$", ex)
    assert.matches("^[A-Za-z0-9]+$", compile("^[\\P{C}\\r\\n\\t]{1,250}$"):example(30, 40, 1))
    assert.are.equal(12, #compile("^d-[0-9a-f]{10}$"):example(nil, nil, 3))
    assert.is_nil(compile("^[a-z]{3}$"):example(4, 10, 1))
    assert.is_nil(compile("^a$"):example(3, 2, 1))
    assert.are.equal("", compile("^$"):example(0, 5, 1))
  end)

  it("gives counterexamples that do not match, within the bounds", function()
    for _, sh in ipairs(bounded_shapes()) do
      local re = compile(sh.pattern)
      local tries = { { sh.min, sh.max }, { nil, nil } }
      if sh.max and sh.max <= 4096 then tries[#tries + 1] = { sh.max, sh.max } end
      for _, b in ipairs(tries) do
        local where = ("%s %s [%s,%s]"):format(sh.model, sh.name, tostring(b[1]), tostring(b[2]))
        local cx = re:counterexample(b[1], b[2], 1)
        if MATCHES_ALL[sh.pattern] then
          assert(cx == nil, where .. ": every string matches " .. sh.pattern)
        else
          assert(cx, where .. ": no counterexample for " .. sh.pattern)
          assert(not re:test(cx), where .. (": counterexample %q matches"):format(cx))
          assert(ulen(cx) >= (b[1] or 0) and ulen(cx) <= (b[2] or math.huge), where .. ": out of bounds")
        end
      end
    end
  end)

  it("gives counterexamples around look-aheads only when they truly fail", function()
    local re = compile("^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)[a-zA-Z\\d\\S]{8,64}$")
    for seed = 1, 5 do
      local ex = re:example(8, 64, seed)
      assert.is_true(re:test(ex))
      assert.is_false(re:test(re:counterexample(8, 64, seed)))
    end
  end)
end)

describe("regex runs in linear time", function()
  local N = 1024 * 1024

  local function bounded(re, s, what)
    local t0 = os.clock()
    re:test(s)
    local dt = os.clock() - t0
    assert(dt < 2, ("%s on %s took %.2f s"):format(re.pattern, what, dt))
  end

  it("stays linear on nested quantifiers that make a backtracking engine explode", function()
    local a_bang, x_run = ("a"):rep(N) .. "!", ("x"):rep(N)
    local ATTACKS = {
      { "(a+)+$", a_bang, false }, { "^(a|a)*$", a_bang, false }, { "^(a*)*b", a_bang, false },
      { "(x+x+)+y", x_run, false }, { "^(a|aa)+$", a_bang, false }, { "(.*a){12}$", a_bang, false },
      { "^(\\w+\\s?)*$", ("word "):rep(math.floor(N / 5)) .. "!", false }, { "(a+)+$", ("a"):rep(N), true },
    }
    for _, c in ipairs(ATTACKS) do
      local re = compile(c[1])
      bounded(re, c[2], "a 1 MiB attack string")
      assert.are.equal(c[3], re:test(c[2]))
    end
  end)

  it("scans 1 MiB blanks, near-matches and a...a! in under 2 s for every model pattern", function()
    local blanks, attack = (" "):rep(N), ("a"):rep(N - 1) .. "!"
    for _, p in ipairs(distinct_patterns()) do
      local re = compile(p)
      bounded(re, blanks, "1 MiB of blanks")
      bounded(re, attack, "a^N!")
      local ex = re:example(1, 64, 7) or "a"
      local near = ex:rep(math.floor(N / #ex)) .. "\1"
      bounded(re, near, "repeated example then \\1")
    end
  end)
end)
