# mk/js.mk - cross-check with the AWS SDK for JavaScript v3 (never sends).
#   make js-conformance   installs @aws-sdk/client-connect under build/js with npm
#                         (once) and runs spec/js_conformance_spec.lua: for every
#                         operation, client:prepare's method, path, query, modeled
#                         headers and body equal the JavaScript SDK's; without
#                         build/js that spec is pending

JS_DIR ?= build/js
JS_SDK := $(JS_DIR)/node_modules/@aws-sdk/client-connect/package.json

.PHONY: js-conformance js-install

js-install: $(JS_SDK)

$(JS_SDK):
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { echo "js-conformance: node and npm are needed (Debian: apt-get install nodejs npm)"; exit 1; }
	@mkdir -p $(JS_DIR)
	HOME=$$(mktemp -d) npm install --prefix $(JS_DIR) --no-audit --no-fund @aws-sdk/client-connect

js-conformance: build js-install
	@home=$$(mktemp -d); AWS_EC2_METADATA_DISABLED=true HOME=$$home JS_CONFORMANCE_DIR=$(JS_DIR) \
	  LUA_PATH="./?.lua;lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/?.so;;" \
	  $(LUA) $(BUSTED) -o plainTerminal spec/js_conformance_spec.lua; rc=$$?; rm -rf "$$home"; exit $$rc
