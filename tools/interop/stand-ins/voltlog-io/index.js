"use strict";
// ocpp-ws-io imports this module at load time for its default logger only. The interop stations pass
// `logging: false`, so none of these is ever called; if one were, the station would fail loudly.
// (Assignments to `exports.NAME`, so that Node's ES module loader sees the named exports.)
function unavailable(name) {
  return () => {
    throw new Error(`voltlog-io.${name} is a stand-in (the package is not installed): pass logging: false`);
  };
}
exports.createLogger = unavailable("createLogger");
exports.consoleTransport = unavailable("consoleTransport");
exports.prettyTransport = unavailable("prettyTransport");
