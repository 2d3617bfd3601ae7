-- aws_connect.xml: a small XML reader for the answers of query-protocol
-- services (STS). It builds a tree of elements:
--
--   node = { name = local name (namespace prefix dropped), text = the
--            element's own character data (entities and character
--            references decoded, CDATA kept as is, line ends as "\n"),
--            [1..n] = child elements in document order }
--
-- Attributes are read for syntax and dropped; comments and processing
-- instructions are skipped; a DOCTYPE (and with it any entity definition)
-- is refused. Anything else that is not well formed (a mismatched or
-- missing end tag, a raw "&", text outside the root element, a second
-- root) is a ResponseError, as it is for an XML parser.
--
-- The input is hostile: the reader makes one left-to-right pass with plain
-- searches and anchored patterns that cannot backtrack more than the run
-- they match, so its cost is linear in the size of the body. Size, depth
-- and the number of elements are bounded (M.MAX_BYTES, M.MAX_DEPTH,
-- M.MAX_NODES, or opts of the same names in lower case).

local errors = require("aws_connect.errors")

local M = {}

M.MAX_BYTES = 4 * 1024 * 1024
M.MAX_DEPTH = 64
M.MAX_NODES = 50000

local find, sub, byte, gsub, concat = string.find, string.sub, string.byte, string.gsub, table.concat

local function bad(msg, pos)
  errors.raise("ResponseError", ("the response is not well-formed XML: %s%s"):format(msg,
    pos and (" (at byte %d)"):format(pos) or ""))
end

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then
    return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
  end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }

-- XML's Char production: what a character reference may name.
local function xml_char(cp)
  return cp == 0x9 or cp == 0xA or cp == 0xD or (cp >= 0x20 and cp <= 0xD7FF)
    or (cp >= 0xE000 and cp <= 0xFFFD) or (cp >= 0x10000 and cp <= 0x10FFFF)
end

-- ref is what follows "&", up to and including ";" when there is one.
local function reference(ref)
  if sub(ref, -1) ~= ";" then bad("an '&' that starts no entity or character reference") end
  ref = sub(ref, 1, -2)
  local e = ENTITIES[ref]
  if e then return e end
  local cp
  if find(ref, "^#x%x+$") then
    if #ref > 10 then bad("a character reference out of range") end
    cp = tonumber(sub(ref, 3), 16)
  elseif find(ref, "^#%d+$") then
    if #ref > 9 then bad("a character reference out of range") end
    cp = tonumber(sub(ref, 2))
  else
    bad(("an undefined entity &%s;"):format(#ref > 20 and sub(ref, 1, 20) .. "..." or ref))
  end
  if not xml_char(cp) then bad("a character reference to a character XML does not allow") end
  return utf8_char(cp)
end

-- Decoded references of one parse, looked up by gsub without a Lua call
-- per reference once a form has been seen (refs: a table made per parse,
-- so it grows with that body only).
local REFS_MT = { __index = function(t, ref)
  local v = reference(ref)
  rawset(t, ref, v)
  return v
end }

-- Character data between markup: line ends normalised, references decoded.
local function chardata(seg, st)
  if find(seg, "\r", 1, true) then seg = gsub(seg, "\r\n?", "\n") end
  if not find(seg, "&", 1, true) then return seg end
  local refs = st.refs
  if not refs then
    refs = setmetatable({}, REFS_MT)
    st.refs = refs
  end
  return (gsub(seg, "&([#%w]*;?)", refs))
end

-- Text pieces of an open element: nil, one string, or a list (so that many
-- pieces cost one concatenation, not one per piece).
local function add_text(bufs, depth, piece)
  if piece == "" then return end
  local b = bufs[depth]
  if b == nil then
    bufs[depth] = piece
  elseif type(b) == "string" then
    bufs[depth] = { b, piece }
  else
    b[#b + 1] = piece
  end
end

local function local_name(qname)
  if not find(qname, ":", 1, true) then return qname end
  return (sub(qname, find(qname, "[^:]*$")))
end

--- Parses s; returns the root element. opts: max_bytes, max_depth,
--- max_nodes. Raises a ResponseError for anything that is not well formed
--- or over a bound.
function M.parse(s, opts)
  opts = opts or {}
  if type(s) ~= "string" then bad("the body is not a string") end
  local max_bytes = opts.max_bytes or M.MAX_BYTES
  local max_depth = opts.max_depth or M.MAX_DEPTH
  local max_nodes = opts.max_nodes or M.MAX_NODES
  if #s > max_bytes then
    errors.raise("ResponseError", ("the XML response is larger than %d bytes"):format(max_bytes))
  end
  local pos = 1
  if sub(s, 1, 3) == "\239\187\191" then pos = 4 end   -- a UTF-8 byte order mark
  local n = #s
  local root, done
  local stack, qnames, bufs = {}, {}, {}
  local depth, nodes = 0, 0
  local st = {}
  while pos <= n do
    local lt = find(s, "<", pos, true)
    local stop = (lt or n + 1) - 1
    if stop >= pos then
      local seg = sub(s, pos, stop)
      if depth > 0 then
        add_text(bufs, depth, chardata(seg, st))
      elseif find(seg, "[^ \t\r\n]") then
        bad(done and "text after the root element" or "text before the root element", pos)
      end
    end
    if not lt then break end
    local c = byte(s, lt + 1)
    if c == 47 then -- "/": an end tag
      local _, e, qname = find(s, "^([^%s/>]+)%s*>", lt + 2)
      if not e then bad("a malformed end tag", lt) end
      if depth == 0 or qname ~= qnames[depth] then
        bad(("an end tag </%s> that closes no open element"):format(#qname > 40 and sub(qname, 1, 40) or qname), lt)
      end
      local node = stack[depth]
      local b = bufs[depth]
      if b == nil then
        node.text = ""
      elseif type(b) == "string" then
        node.text = b
      else
        node.text = concat(b)
      end
      stack[depth], qnames[depth], bufs[depth] = nil, nil, nil
      depth = depth - 1
      if depth == 0 then done = true end
      pos = e + 1
    elseif c == 33 then -- "!": a comment, CDATA or a declaration
      if sub(s, lt, lt + 3) == "<!--" then
        local _, e = find(s, "-->", lt + 4, true)
        if not e then bad("an unclosed comment", lt) end
        pos = e + 1
      elseif sub(s, lt, lt + 8) == "<![CDATA[" then
        if depth == 0 then bad("CDATA outside the root element", lt) end
        local a, e = find(s, "]]>", lt + 9, true)
        if not a then bad("an unclosed CDATA section", lt) end
        local raw = sub(s, lt + 9, a - 1)
        if find(raw, "\r", 1, true) then raw = gsub(raw, "\r\n?", "\n") end
        add_text(bufs, depth, raw)
        pos = e + 1
      else
        bad("a DOCTYPE or other declaration (not accepted in a response)", lt)
      end
    elseif c == 63 then -- "?": a processing instruction or the XML declaration
      local _, e = find(s, "?>", lt + 2, true)
      if not e then bad("an unclosed processing instruction", lt) end
      pos = e + 1
    else -- a start tag
      -- the common case first: a name and ">" or "/>", no attributes
      local _, te, qname, slash = find(s, "^([^%s/>=\"'<!?][^%s/>=\"'<]*)(/?)>", lt + 1)
      if not te then
        local _, e, name = find(s, "^([^%s/>=\"'<!?][^%s/>=\"'<]*)", lt + 1)
        if not e then bad("a '<' that starts no tag", lt) end
        qname = name
        local p = e + 1
        while true do
        -- blanks first (one run, nothing to backtrack), then name = "value"
          local _, be = find(s, "^[ \t\r\n]*", p)
          if be < p then break end   -- no blank: no further attribute
          p = be + 1
          local _, ae, quote = find(s, "^[^%s/>=\"'<]+[ \t\r\n]*=[ \t\r\n]*([\"'])", p)
          if not ae then break end
          local close = find(s, quote, ae + 1, true)
          if not close then bad("an unclosed attribute value", p) end
          if find(sub(s, ae + 1, close - 1), "<", 1, true) then bad("a '<' in an attribute value", p) end
          p = close + 1
        end
        _, te, slash = find(s, "^(/?)>", p)
        if not te then bad("a malformed start tag", lt) end
      end
      if done then bad("a second root element", lt) end
      nodes = nodes + 1
      if nodes > max_nodes then
        errors.raise("ResponseError", ("the XML response has more than %d elements"):format(max_nodes))
      end
      local node = { name = local_name(qname) }
      if depth == 0 then
        root = node
      else
        local parent = stack[depth]
        parent[#parent + 1] = node
      end
      if slash == "/" then
        node.text = ""
        if depth == 0 then done = true end
      else
        depth = depth + 1
        if depth > max_depth then
          errors.raise("ResponseError", ("the XML response nests deeper than %d elements"):format(max_depth))
        end
        stack[depth], qnames[depth] = node, qname
      end
      pos = te + 1
    end
  end
  if depth > 0 then bad(("the element <%s> is never closed"):format(stack[depth].name)) end
  if not root then bad("no root element") end
  return root
end

--- The first child element of node called name, or nil.
function M.child(node, name)
  for i = 1, #node do
    if node[i].name == name then return node[i] end
  end
  return nil
end

return M
