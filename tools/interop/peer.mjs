#!/usr/bin/env node
// A third-party OCPP 2.0.1 station peer: station.mjs on the client of a third-party library.
//
//   node peer.mjs --library ocpp-ws-io|ocpp-rpc --url ws://127.0.0.1:9201/ocpp --id STATION [--password PW]
//                 [--personality wallbox|twin] [--meter-interval SECONDS]
//
// Each library is used as its authors mean it: its own client (websocket, Basic auth, subprotocol), its own RPC
// layer (message ids, CALL/CALLRESULT/CALLERROR, timeouts, NotImplemented for actions without a handler) and its
// own strict mode, which validates every message against the OCPP 2.0.1 JSON schemas the library ships, in both
// directions: the central system's CALLs and responses, and the station's own. A failure is reported as a
// `validation_failure` event. Everything is written to stdout as JSON lines (see station.mjs); SIGTERM stops.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

import { emit, Station } from "./station.mjs";

const require = createRequire(import.meta.url);
const PROTOCOL = "ocpp2.0.1";
const CALL_TIMEOUT_MS = 10_000;

const { values: args } = parseArgs({
  options: {
    library: { type: "string" },
    url: { type: "string" },
    id: { type: "string" },
    password: { type: "string" },
    personality: { type: "string" },
    "meter-interval": { type: "string", default: "1" },
  },
});

function validationFailure(library, details) {
  emit("validation_failure", { library, ...details });
}

/** ocpp-ws-io's OCPPClient (https://www.npmjs.com/package/ocpp-ws-io). */
async function connectOcppWsIo() {
  const { OCPPClient } = await import("ocpp-ws-io");
  const client = new OCPPClient({
    endpoint: args.url,
    identity: args.id,
    protocols: [PROTOCOL],
    securityProfile: args.password ? 1 : 0, // 1: HTTP Basic auth on ws://
    password: args.password,
    strictMode: true,
    reconnect: false, // the station reconnects itself after a reset
    callTimeoutMs: CALL_TIMEOUT_MS,
    logging: false, // its logger needs voltlog-io, which is not installed (see package.json)
  });
  client.on("strictValidationFailure", ({ message, error }) =>
    validationFailure("ocpp-ws-io", { message, error: String(error?.message ?? error), details: error?.details }),
  );
  client.on("badMessage", (event) => emit("bad_message", { library: "ocpp-ws-io", detail: String(event?.error ?? event) }));
  await client.connect();
  return {
    protocol: client.protocol,
    call: (action, payload) => client.call(PROTOCOL, action, payload),
    handle: (action, handler) => client.handle(PROTOCOL, action, ({ params }) => handler(params)),
    onClose: (listener) => client.on("close", listener),
    close: () => client.close({ awaitPending: false }),
  };
}

/** ocpp-rpc's RPCClient (https://www.npmjs.com/package/ocpp-rpc). */
async function connectOcppRpc() {
  const { RPCClient } = require("ocpp-rpc");
  const client = new RPCClient({
    endpoint: args.url,
    identity: args.id,
    protocols: [PROTOCOL],
    password: args.password, // HTTP Basic auth (security profile 1) when given
    strictMode: true,
    reconnect: false,
    callTimeoutMs: CALL_TIMEOUT_MS,
  });
  client.on("strictValidationFailure", ({ method, outbound, isCall, error, params, result }) =>
    validationFailure("ocpp-rpc", { method, outbound, isCall, params, result, error: String(error?.message ?? error), details: error?.details }),
  );
  client.on("badMessage", ({ error }) => emit("bad_message", { library: "ocpp-rpc", detail: String(error) }));
  await client.connect();
  return {
    protocol: client.protocol,
    call: (action, payload) => client.call(action, payload),
    handle: (action, handler) => client.handle(action, ({ params }) => handler(params)),
    onClose: (listener) => client.on("close", listener),
    close: () => client.close(),
  };
}

const LIBRARIES = { "ocpp-ws-io": connectOcppWsIo, "ocpp-rpc": connectOcppRpc };

const phaseCurrents = (amps) => ["L1", "L2", "L3"].map((phase) => ({ value: amps, measurand: "Current.Import", phase }));

/** How the two stations differ; both stay within OCPP 2.0.1, some of it in ways a CSMS may not expect. */
const PERSONALITIES = {
  // One EVSE; reports its device model (in two NotifyReport parts); meters in Wh and W, the units' defaults, left
  // out; transaction ids are UUIDs; composite schedules in A; a remote start answered first, then started.
  wallbox: {
    evses: 1,
    reportsDeviceModel: true,
    compositeUnit: "A",
    startsBeforeAnswering: false,
    carMaxCurrent: 16,
    registerStartWh: 1_234_000,
    transactionId: () => randomUUID(),
    sampledValues: (registerWh, amps) => [
      { value: Math.round(registerWh), measurand: "Energy.Active.Import.Register" },
      { value: amps * 230 * 3, measurand: "Power.Active.Import" },
      ...phaseCurrents(amps),
      { value: 230, measurand: "Voltage", phase: "L1-N" },
    ],
  },
  // Two EVSEs; no device model report (GetBaseReport is answered NotImplemented by the library); meters in kWh
  // and kW with their units; transaction ids are small numbers; composite schedules in W unless asked for A; a
  // remote start's transaction starts before the RequestStartTransaction is answered.
  twin: {
    evses: 2,
    reportsDeviceModel: false,
    compositeUnit: "W",
    startsBeforeAnswering: true,
    carMaxCurrent: 16,
    registerStartWh: 42_000,
    transactionId: (() => {
      let next = 100;
      return () => String((next += 1));
    })(),
    sampledValues: (registerWh, amps) => [
      { value: Math.round(registerWh) / 1000, measurand: "Energy.Active.Import.Register", unitOfMeasure: { unit: "kWh" } },
      { value: (amps * 230 * 3) / 1000, measurand: "Power.Active.Import", unitOfMeasure: { unit: "kW" } },
      ...phaseCurrents(amps).map((sample) => ({ ...sample, unitOfMeasure: { unit: "A" } })),
    ],
  },
};

async function main() {
  const connect = LIBRARIES[args.library];
  const personality = PERSONALITIES[args.personality ?? (args.library === "ocpp-rpc" ? "twin" : "wallbox")];
  if (!connect || !personality || !args.url || !args.id) {
    process.stderr.write("usage: peer.mjs --library ocpp-ws-io|ocpp-rpc --url URL --id ID [--password PW] [--personality wallbox|twin]\n");
    process.exit(2);
  }
  // Read from the installed package itself (its exports do not include package.json).
  const manifest = new URL(`./node_modules/${args.library}/package.json`, import.meta.url);
  const { version } = JSON.parse(readFileSync(manifest, "utf8"));
  personality.chargingStation = {
    vendorName: "Interop peer",
    model: `${args.library} peer`, // at most 20 characters (CiString20Type)
    serialNumber: `SN-${args.id}`,
    firmwareVersion: `${args.library} ${version}`,
  };
  emit("library", { name: args.library, version, node: process.version });
  const station = new Station({ id: args.id, personality, connect, meterInterval: Number(args["meter-interval"]) });
  const shutdown = async () => {
    emit("stopping", {}); // calls failing from here on were cut off by the shutdown
    await station.stop().catch(() => {});
    emit("stopped", {});
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  try {
    await station.start();
  } catch (error) {
    emit("error", { error: String(error?.message ?? error).slice(0, 500), code: error?.statusCode ?? error?.code });
    process.exit(1);
  }
}

await main();
