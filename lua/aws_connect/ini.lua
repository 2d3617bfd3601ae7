-- aws_connect.ini: parses the AWS shared config and credentials files
-- (~/.aws/config, ~/.aws/credentials) the way the AWS CLI reads them.
--
-- Rules (botocore's RawConfigParser plus its nested-value parsing):
--   * `[name]` starts a section; anything after the closing `]` is ignored,
--     the name is trimmed;
--   * `key = value` or `key: value`; keys are trimmed and lower-cased,
--     values trimmed; the first `=` or `:` separates them;
--   * lines starting with `#` or `;` (after blanks) are comments; in a
--     value, a `#` or `;` preceded by a blank starts a comment too (as the
--     AWS SDKs for Java, Go and Rust read these files);
--   * a line indented deeper than its key continues that key: when the key
--     had no value on its own line, the continuation lines are a
--     sub-section of `name = value` pairs (`[services x]` / `connect =` /
--     `  endpoint_url = ...`), otherwise they are joined with "\n";
--   * blank lines are ignored; a leading UTF-8 BOM too; lines end with LF,
--     CRLF or a lone CR;
--   * a section or key given twice: the later value of each key wins.
-- Anything else is an error that names the file and the line number, never
-- the line's text (it may hold a secret). Every scan is linear in the size
-- of the file (the files are user-controlled and may be huge).

local M = {}

local trim = require("aws_connect.text").trim  -- linear
M._trim = trim

-- Drops a comment that starts with # or ; after a blank.
local function strip_inline_comment(v)
  local i = v:find("%s[#;]")
  if i then v = v:sub(1, i - 1) end
  return trim(v)
end

local function parse_nested(lines, first_line, where)
  local t = {}
  for i, line in ipairs(lines) do
    local k, v = line:match("^([^=]*)=(.*)$")
    if not k or trim(k) == "" then
      return nil, ("%sline %d: expected 'name = value' in an indented sub-section"):format(where, first_line[i])
    end
    t[trim(k):lower()] = strip_inline_comment(v)
  end
  return t
end

--- Parses INI text. Returns { sections = { [name] = { key = value } },
--- order = { names in first-seen order } } or nil and a message.
--- A value is a string, or a table for an indented sub-section.
--- `name` (a file name) is only used in messages.
function M.parse(text, name)
  local where = name and (name .. ": ") or ""
  if type(text) ~= "string" then return nil, where .. "not a string" end
  text = text:gsub("^\239\187\191", "")
  -- CRLF, CR alone (old Mac files) and LF all end a line
  text = text:gsub("\r\n?", "\n")
  local sections, order = {}, {}
  local cur             -- current section table
  local key, key_indent -- current key (for continuation lines)
  local cont, cont_lines, cont_inline
  local lineno = 0

  local function finish_key()
    if key and cont then
      local v
      if cont_inline == "" then
        local t, err = parse_nested(cont, cont_lines, where)
        if not t then return err end
        v = t
      else
        local parts = { cont_inline }
        for _, l in ipairs(cont) do parts[#parts + 1] = l end
        v = table.concat(parts, "\n")
      end
      cur[key] = v
    end
    key, key_indent, cont, cont_lines, cont_inline = nil, nil, nil, nil, nil
    return nil
  end

  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local line = raw
    local stripped = trim(line)
    -- blank and comment lines are skipped, even inside a continuation
    if stripped ~= "" and not stripped:find("^[#;]") then
      local indent = #line:match("^%s*")
      if key and indent > key_indent then
        cont = cont or {}
        cont_lines = cont_lines or {}
        local v = strip_inline_comment(stripped)
        if v ~= "" then
          cont[#cont + 1] = v
          cont_lines[#cont_lines + 1] = lineno
        end
      else
        local err = finish_key()
        if err then return nil, err end
        if stripped:sub(1, 1) == "[" then
          local sname = stripped:match("^%[(.*)%]")
          if not sname then
            return nil, ("%sline %d: section header without a closing ']'"):format(where, lineno)
          end
          -- the greedy match keeps inner brackets; a trailing comment follows the last ']'
          local last = stripped:match("^(%b[])")
          if last then sname = last:sub(2, -2) end
          sname = trim(sname)
          if sname == "" then return nil, ("%sline %d: empty section name"):format(where, lineno) end
          if not sections[sname] then
            sections[sname] = {}
            order[#order + 1] = sname
          end
          cur = sections[sname]
        else
          local s = stripped:find("[=:]")
          if not s then
            return nil, ("%sline %d: expected 'name = value' or a [section]"):format(where, lineno)
          end
          local k = trim(stripped:sub(1, s - 1)):lower()
          if k == "" then return nil, ("%sline %d: a value without a name"):format(where, lineno) end
          if not cur then
            return nil, ("%sline %d: a setting before the first [section]"):format(where, lineno)
          end
          local v = strip_inline_comment(stripped:sub(s + 1))
          cur[k] = v
          key, key_indent, cont_inline = k, indent, v
        end
      end
    end
  end
  local err = finish_key()
  if err then return nil, err end
  return { sections = sections, order = order }
end

--- Reads and parses a file. A file that does not exist gives nil and no
--- message; a file that cannot be read or parsed gives nil and a message.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text, rerr = f:read("*a")
  f:close()
  if not text then return nil, path .. ": cannot be read (" .. tostring(rerr) .. ")" end
  return M.parse(text, path)
end

--- Splits `profile name` (blanks and quotes as in botocore's shlex) into
--- its parts; returns nil when the header is not a two-word header.
function M.split_header(header)
  local parts, i, n = {}, 1, #header
  while i <= n do
    local c = header:sub(i, i)
    if c:find("%s") then
      i = i + 1
    else
      local word = {}
      while i <= n and not header:sub(i, i):find("%s") do
        c = header:sub(i, i)
        if c == '"' or c == "'" then
          local j = header:find(c, i + 1, true)
          if not j then return nil end
          word[#word + 1] = header:sub(i + 1, j - 1)
          i = j + 1
        else
          word[#word + 1] = c
          i = i + 1
        end
      end
      parts[#parts + 1] = table.concat(word)
    end
  end
  return parts
end

return M
