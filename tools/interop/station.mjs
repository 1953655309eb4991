// An OCPP 2.0.1 charging station for the interop tests, independent of the RPC library under it.
//
// The station keeps EVSEs, a car on each, charging profiles, transactions and a meter; it answers what a central
// system asks and reports what a station reports. It talks through an `rpc` object that peer.mjs builds on a
// third-party library (ocpp-ws-io or ocpp-rpc): that library's client, its own schema validation (strict mode,
// both directions) and its own RPC layer. Nothing here knows which library it runs on.
//
// `personality` says how this station differs from the other one (see PERSONALITIES in peer.mjs): how many EVSEs,
// whether it reports its device model, how it meters, what its transaction ids look like.
//
// What happens is written to stdout as one JSON object per line ({"event": ..., ...}) for the test to read.

const VOLTAGE = 230;
const PHASES = 3;
/** A car below this current does not charge (IEC 61851): the station pauses it instead. */
const MIN_CURRENT = 6;

export function emit(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now() / 1000, ...fields })}\n`);
}

const now = () => new Date().toISOString();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A variable's key: component (with EVSE, connector and instance), variable (with instance). */
function variableKey(component, variable) {
  const where = [component.evse?.id, component.evse?.connectorId, component.instance].filter((part) => part !== undefined);
  const name = [component.name, ...where].join(":");
  return variable.instance === undefined ? `${name}/${variable.name}` : `${name}/${variable.name}:${variable.instance}`;
}

/** The limit (A per phase) a charging schedule sets `seconds` after its start. */
function periodLimit(schedule, seconds) {
  let limit = null;
  let phases = PHASES;
  for (const period of schedule.chargingSchedulePeriod) {
    if (period.startPeriod <= seconds) {
      limit = period.limit;
      phases = period.numberPhases ?? PHASES;
    }
  }
  if (limit === null) return null;
  return schedule.chargingRateUnit === "W" ? limit / (VOLTAGE * phases) : limit;
}

export class Station {
  constructor({ id, personality, connect, meterInterval }) {
    this.id = id;
    this.personality = personality;
    this.connectRpc = connect; // () => Promise<rpc>: a new connection with the library's client
    this.meterInterval = meterInterval;
    this.rpc = null;
    this.bootReason = "PowerUp";
    this.timers = new Set(); // every timer, cleared when the connection goes
    this.bootTimer = null; // the heartbeat once accepted, or the next boot while pending or rejected
    this.inflight = new Set(); // our CALLs not answered yet
    this.profiles = []; // [{ evseId, profile }]
    this.pendingReset = null;
    // The writable variables (the others follow from the station's state).
    this.settings = new Map([
      ["OCPPCommCtrlr/HeartbeatInterval", "300"],
      ["SampledDataCtrlr/TxUpdatedInterval", String(meterInterval)],
    ]);
    this.evses = new Map();
    for (let evseId = 1; evseId <= personality.evses; evseId += 1) {
      // Each EVSE has its own meter, its register where the personality says (EVSE 2 a little further on).
      const registerWh = personality.registerStartWh + (evseId - 1) * 10_000;
      this.evses.set(evseId, { id: evseId, transaction: null, operative: true, registerWh });
    }
  }

  // ---- connection and boot (B01-B04) ----------------------------------------------------------------------

  async start() {
    this.rpc = await this.connectRpc();
    this.rpc.onClose(() => this.connectionLost());
    for (const [action, handler] of Object.entries(this.handlers())) {
      this.rpc.handle(action, (payload) => {
        emit("call_in", { action, payload });
        return handler.call(this, payload);
      });
    }
    emit("connected", { protocol: this.rpc.protocol });
    await this.boot();
  }

  async boot() {
    const response = await this.send("BootNotification", {
      reason: this.bootReason,
      chargingStation: this.personality.chargingStation,
    });
    if (!response) return;
    emit("boot", { status: response.status, interval: response.interval, reason: this.bootReason });
    clearTimeout(this.bootTimer); // clears an interval too
    const interval = Math.max(response.interval, 1) * 1000;
    if (response.status === "Accepted") {
      this.bootTimer = this.every(interval, () => this.send("Heartbeat", {}));
      for (const evse of this.evses.values()) await this.statusNotification(evse);
    } else {
      // Pending or Rejected: ask again after the interval, unless the CSMS triggers a boot first (B02, B03).
      this.bootTimer = this.later(interval, () => this.boot());
    }
  }

  connectionLost() {
    emit("disconnected", {});
    this.clearTimers();
  }

  async stop() {
    this.clearTimers();
    // What was sent is answered before the connection goes (a second at most).
    await Promise.race([Promise.allSettled([...this.inflight]), sleep(1000)]);
    if (this.rpc) await this.rpc.close();
  }

  /** Send a CALL; its response, or null when it failed (reported, so the test sees it). */
  async send(action, payload) {
    const call = this.rpc.call(action, payload);
    this.inflight.add(call);
    try {
      const result = await call;
      emit("call_out", { action, payload, result });
      return result;
    } catch (error) {
      emit("call_failed", { action, payload, error: String(error?.message ?? error), code: error?.rpcErrorCode });
      return null;
    } finally {
      this.inflight.delete(call);
    }
  }

  every(ms, task) {
    const timer = setInterval(task, ms);
    this.timers.add(timer);
    return timer;
  }

  later(ms, task) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  clearTimers() {
    for (const timer of this.timers) clearTimeout(timer); // clearTimeout clears intervals too
    this.timers.clear();
    for (const evse of this.evses.values()) {
      if (evse.transaction) evse.transaction.meterTimer = null;
    }
  }

  connectorStatus(evse) {
    if (!evse.operative) return "Unavailable";
    return evse.transaction ? "Occupied" : "Available";
  }

  statusNotification(evse) {
    return this.send("StatusNotification", {
      timestamp: now(),
      connectorStatus: this.connectorStatus(evse),
      evseId: evse.id,
      connectorId: 1,
    });
  }

  // ---- what the central system asks -----------------------------------------------------------------------

  handlers() {
    const handlers = {
      TriggerMessage: this.onTriggerMessage,
      GetVariables: this.onGetVariables,
      SetVariables: this.onSetVariables,
      SetVariableMonitoring: this.onSetVariableMonitoring,
      RequestStartTransaction: this.onRequestStartTransaction,
      RequestStopTransaction: this.onRequestStopTransaction,
      GetTransactionStatus: this.onGetTransactionStatus,
      SetChargingProfile: this.onSetChargingProfile,
      ClearChargingProfile: this.onClearChargingProfile,
      GetChargingProfiles: this.onGetChargingProfiles,
      GetCompositeSchedule: this.onGetCompositeSchedule,
      ChangeAvailability: this.onChangeAvailability,
      UnlockConnector: this.onUnlockConnector,
      Reset: this.onReset,
    };
    // A station without a device model report leaves GetBaseReport to the library, which answers NotImplemented
    // (legal: the CSMS must do without the inventory, and know the EVSEs from what the station reports).
    if (this.personality.reportsDeviceModel) handlers.GetBaseReport = this.onGetBaseReport;
    return handlers;
  }

  onTriggerMessage({ requestedMessage, evse }) {
    const senders = {
      BootNotification: () => {
        this.bootReason = "Triggered";
        return this.boot();
      },
      Heartbeat: () => this.send("Heartbeat", {}),
      StatusNotification: () => Promise.all(this.targets(evse?.id).map((e) => this.statusNotification(e))),
      MeterValues: () => Promise.all(this.targets(evse?.id).map((e) => this.meterValues(e))),
    };
    const sender = senders[requestedMessage];
    if (!sender) return { status: "NotImplemented" };
    setImmediate(sender); // after the response (F06.FR.04)
    return { status: "Accepted" };
  }

  targets(evseId) {
    return evseId ? [this.evses.get(evseId)].filter(Boolean) : [...this.evses.values()];
  }

  onGetBaseReport({ requestId }) {
    const data = this.deviceModel();
    const half = Math.ceil(data.length / 2);
    setImmediate(async () => {
      // Two parts, so the CSMS has to put a report together (B07.FR.04).
      await this.send("NotifyReport", { requestId, generatedAt: now(), seqNo: 0, tbc: true, reportData: data.slice(0, half) });
      await this.send("NotifyReport", { requestId, generatedAt: now(), seqNo: 1, reportData: data.slice(half) });
    });
    return { status: "Accepted" };
  }

  /** The device model (B07): station, EVSEs, connectors and the controllers a CSMS looks at. */
  deviceModel() {
    const item = (component, name, value, extra = {}) => ({
      component,
      variable: { name },
      variableAttribute: [{ type: "Actual", value: String(value), mutability: extra.mutability ?? "ReadOnly" }],
      variableCharacteristics: { dataType: extra.dataType ?? "string", supportsMonitoring: false, ...extra.characteristics },
    });
    const setting = (component, name, dataType) =>
      item(component, name, this.settings.get(variableKey(component, { name })), { dataType, mutability: "ReadWrite" });
    const data = [
      item({ name: "ChargingStation" }, "AvailabilityState", "Available", { dataType: "OptionList" }),
      item({ name: "ChargingStation" }, "SupplyPhases", PHASES, { dataType: "integer" }),
      setting({ name: "OCPPCommCtrlr" }, "HeartbeatInterval", "integer"),
      setting({ name: "SampledDataCtrlr" }, "TxUpdatedInterval", "integer"),
      item({ name: "SmartChargingCtrlr" }, "Enabled", "true", { dataType: "boolean" }),
      item({ name: "SmartChargingCtrlr" }, "RateUnit", "A,W", { dataType: "MemberList" }),
      item({ name: "SmartChargingCtrlr" }, "ProfileStackLevel", 8, { dataType: "integer" }),
      item({ name: "SmartChargingCtrlr" }, "PeriodsPerSchedule", 24, { dataType: "integer" }),
    ];
    for (const evse of this.evses.values()) {
      const component = { name: "EVSE", evse: { id: evse.id } };
      data.push(
        item(component, "AvailabilityState", this.connectorStatus(evse), { dataType: "OptionList" }),
        item(component, "SupplyPhases", PHASES, { dataType: "integer" }),
        item(component, "Power", this.amps(evse) * VOLTAGE * PHASES, {
          dataType: "decimal",
          characteristics: { unit: "W", maxLimit: 22080 },
        }),
        item({ name: "Connector", evse: { id: evse.id, connectorId: 1 } }, "ConnectorType", "cType2", { dataType: "OptionList" }),
      );
    }
    return data;
  }

  /** The Actual value of a variable (undefined: the station has no such variable). */
  actualValue(component, variable) {
    const key = variableKey(component, variable);
    const found = this.deviceModel().find((item) => variableKey(item.component, item.variable) === key);
    return found?.variableAttribute[0].value;
  }

  onGetVariables({ getVariableData }) {
    return {
      getVariableResult: getVariableData.map(({ component, variable, attributeType }) => {
        const value = attributeType && attributeType !== "Actual" ? undefined : this.actualValue(component, variable);
        return value === undefined
          ? { attributeStatus: "UnknownVariable", component, variable }
          : { attributeStatus: "Accepted", attributeValue: value, component, variable };
      }),
    };
  }

  onSetVariables({ setVariableData }) {
    return {
      setVariableResult: setVariableData.map(({ component, variable, attributeValue }) => {
        const key = variableKey(component, variable);
        if (this.settings.has(key)) {
          this.settings.set(key, attributeValue);
          return { attributeStatus: "Accepted", component, variable };
        }
        const known = this.actualValue(component, variable) !== undefined;
        return { attributeStatus: known ? "Rejected" : "UnknownVariable", component, variable }; // read-only
      }),
    };
  }

  onSetVariableMonitoring({ setMonitoringData }) {
    // No variable of this station supports monitoring (supportsMonitoring false in its report).
    return {
      setMonitoringResult: setMonitoringData.map(({ type, severity, component, variable }) => ({
        status: "Rejected",
        type,
        severity,
        component,
        variable,
      })),
    };
  }

  // ---- transactions (E, F) ---------------------------------------------------------------------------------

  async onRequestStartTransaction({ idToken, remoteStartId, evseId, chargingProfile }) {
    const evse = evseId ? this.evses.get(evseId) : [...this.evses.values()].find((e) => !e.transaction);
    if (!evse || evse.transaction || !evse.operative) return { status: "Rejected" };
    const transactionId = this.personality.transactionId();
    if (chargingProfile) {
      // F01.FR.08: the TxProfile sent with the start applies to this transaction.
      this.storeProfile(evse.id, { ...chargingProfile, transactionId });
    }
    if (this.personality.startsBeforeAnswering) {
      // Legal, and some stations do it: the transaction starts (StatusNotification, TransactionEvent Started,
      // both answered) before the station answers the RequestStartTransaction.
      await this.startTransaction(evse, transactionId, idToken, remoteStartId);
    } else {
      setImmediate(() => this.startTransaction(evse, transactionId, idToken, remoteStartId));
    }
    return { status: "Accepted", transactionId };
  }

  async startTransaction(evse, transactionId, idToken, remoteStartId) {
    evse.transaction = { id: transactionId, seqNo: 0, startedAt: Date.now(), idToken, lastTick: Date.now() };
    await this.statusNotification(evse);
    await this.transactionEvent(evse, "Started", "RemoteStart", { remoteStartId, idToken });
    this.emitPower(evse);
    evse.transaction.meterTimer = this.every(this.meterInterval * 1000, () =>
      this.transactionEvent(evse, "Updated", "MeterValuePeriodic"),
    );
  }

  onRequestStopTransaction({ transactionId }) {
    const evse = [...this.evses.values()].find((e) => e.transaction?.id === transactionId);
    if (!evse) return { status: "Rejected" };
    setImmediate(() => this.endTransaction(evse, "RemoteStop", "Remote"));
    return { status: "Accepted" };
  }

  async endTransaction(evse, triggerReason, stoppedReason) {
    const transaction = evse.transaction;
    if (!transaction) return;
    this.advanceMeter(evse);
    if (transaction.meterTimer) clearInterval(transaction.meterTimer);
    transaction.ended = true;
    await this.transactionEvent(evse, "Ended", triggerReason, { stoppedReason });
    evse.transaction = null;
    // K02.FR.05: a transaction's TxProfiles end with it.
    this.profiles = this.profiles.filter(({ profile }) => profile.transactionId !== transaction.id);
    this.emitPower(evse);
    await this.statusNotification(evse);
    if (this.pendingReset && ![...this.evses.values()].some((e) => e.transaction)) {
      const reset = this.pendingReset;
      this.pendingReset = null;
      await this.reboot(reset);
    }
  }

  onGetTransactionStatus({ transactionId }) {
    const ongoing = [...this.evses.values()].some((e) => e.transaction?.id === transactionId);
    return transactionId ? { messagesInQueue: false, ongoingIndicator: ongoing } : { messagesInQueue: false };
  }

  /** The current the car on the EVSE draws now: the limit in force, at most what the car takes. */
  amps(evse) {
    if (!evse.transaction || evse.transaction.ended) return 0;
    const limit = this.limitAmps(evse.id);
    const amps = Math.min(this.personality.carMaxCurrent, limit ?? Infinity);
    return amps < MIN_CURRENT ? 0 : amps;
  }

  advanceMeter(evse) {
    const transaction = evse.transaction;
    const at = Date.now();
    const watts = this.amps(evse) * VOLTAGE * PHASES;
    // The meter runs 600 times faster than the clock, so a test of seconds sees whole watt-hours counted.
    evse.registerWh += (watts * (at - transaction.lastTick) * 600) / 3_600_000;
    transaction.lastTick = at;
  }

  emitPower(evse) {
    const amps = this.amps(evse);
    emit("power", { evseId: evse.id, amps, watts: amps * VOLTAGE * PHASES, limit: this.limitAmps(evse.id) });
  }

  async transactionEvent(evse, eventType, triggerReason, extra = {}) {
    const transaction = evse.transaction;
    if (eventType !== "Started") this.advanceMeter(evse);
    const amps = this.amps(evse);
    const chargingState = eventType === "Ended" ? "EVConnected" : amps > 0 ? "Charging" : "SuspendedEVSE";
    const payload = {
      eventType,
      timestamp: now(),
      triggerReason,
      seqNo: transaction.seqNo,
      transactionInfo: {
        transactionId: transaction.id,
        chargingState,
        ...(extra.stoppedReason ? { stoppedReason: extra.stoppedReason } : {}),
        ...(extra.remoteStartId !== undefined ? { remoteStartId: extra.remoteStartId } : {}),
      },
      evse: { id: evse.id, connectorId: 1 },
      meterValue: [{ timestamp: now(), sampledValue: this.personality.sampledValues(evse.registerWh, amps) }],
      ...(extra.idToken ? { idToken: extra.idToken } : {}),
    };
    transaction.seqNo += 1;
    await this.send("TransactionEvent", payload);
  }

  meterValues(evse) {
    if (evse.transaction) this.advanceMeter(evse);
    return this.send("MeterValues", {
      evseId: evse.id,
      meterValue: [{ timestamp: now(), sampledValue: this.personality.sampledValues(evse.registerWh, this.amps(evse)) }],
    });
  }

  // ---- smart charging (K01, K08-K10) -----------------------------------------------------------------------

  onSetChargingProfile({ evseId, chargingProfile }) {
    const purpose = chargingProfile.chargingProfilePurpose;
    if (purpose === "TxProfile") {
      // K01.FR.03/.09: a TxProfile needs a running transaction on that EVSE, and names it.
      const transaction = this.evses.get(evseId)?.transaction;
      if (!transaction || (chargingProfile.transactionId && chargingProfile.transactionId !== transaction.id)) {
        return { status: "Rejected", statusInfo: { reasonCode: "TxNotFound" } };
      }
      chargingProfile = { ...chargingProfile, transactionId: transaction.id };
    }
    if (evseId !== 0 && !this.evses.has(evseId)) return { status: "Rejected", statusInfo: { reasonCode: "UnknownEvse" } };
    this.storeProfile(evseId, chargingProfile);
    // The limit in force changed: cars follow it, and the station says so at once (trigger ChargingRateChanged).
    setImmediate(() => this.limitsChanged());
    return { status: "Accepted" };
  }

  storeProfile(evseId, profile) {
    // K01.FR.05: a profile with the same id replaces the old one; so does one of the same purpose and level.
    this.profiles = this.profiles.filter(
      (p) =>
        p.profile.id !== profile.id &&
        !(
          p.evseId === evseId &&
          p.profile.chargingProfilePurpose === profile.chargingProfilePurpose &&
          p.profile.stackLevel === profile.stackLevel
        ),
    );
    this.profiles.push({ evseId, profile });
    emit("profile", { evseId, profile });
  }

  async limitsChanged() {
    for (const evse of this.evses.values()) {
      this.emitPower(evse);
      if (evse.transaction && !evse.transaction.ended) await this.transactionEvent(evse, "Updated", "ChargingRateChanged");
    }
  }

  onClearChargingProfile({ chargingProfileId, chargingProfileCriteria }) {
    const criteria = chargingProfileCriteria ?? {};
    const before = this.profiles.length;
    this.profiles = this.profiles.filter(({ evseId, profile }) => {
      if (chargingProfileId !== undefined) return profile.id !== chargingProfileId;
      const matches =
        (criteria.evseId === undefined || criteria.evseId === evseId) &&
        (criteria.chargingProfilePurpose === undefined || criteria.chargingProfilePurpose === profile.chargingProfilePurpose) &&
        (criteria.stackLevel === undefined || criteria.stackLevel === profile.stackLevel);
      return !matches;
    });
    if (this.profiles.length < before) setImmediate(() => this.limitsChanged());
    return { status: this.profiles.length < before ? "Accepted" : "Unknown" };
  }

  onGetChargingProfiles({ requestId, evseId }) {
    const found = this.profiles.filter((p) => evseId === undefined || p.evseId === evseId);
    if (found.length === 0) return { status: "NoProfiles" };
    setImmediate(async () => {
      for (const [index, { evseId: target, profile }] of found.entries()) {
        await this.send("ReportChargingProfiles", {
          requestId,
          chargingLimitSource: "CSO",
          evseId: target,
          chargingProfile: [profile],
          tbc: index < found.length - 1,
        });
      }
    });
    return { status: "Accepted" };
  }

  /** The profile of `purpose` in force for the EVSE now: valid, and the highest stack level (K01.FR.11). */
  profileInForce(evseId, purpose) {
    const at = Date.now();
    const candidates = this.profiles.filter(
      ({ evseId: target, profile }) =>
        target === evseId &&
        profile.chargingProfilePurpose === purpose &&
        (!profile.validFrom || Date.parse(profile.validFrom) <= at) &&
        (!profile.validTo || Date.parse(profile.validTo) > at),
    );
    candidates.sort((a, b) => b.profile.stackLevel - a.profile.stackLevel);
    return candidates[0]?.profile ?? null;
  }

  /** The limit of a profile now, in A per phase (null: it sets none now). */
  profileLimit(profile, evseId) {
    const [schedule] = profile.chargingSchedule;
    let start;
    if (profile.chargingProfileKind === "Relative") {
      start = this.evses.get(evseId)?.transaction?.startedAt ?? Date.now();
    } else {
      start = Date.parse(schedule.startSchedule ?? profile.validFrom ?? new Date().toISOString());
      if (profile.chargingProfileKind === "Recurring") {
        const cycle = profile.recurrencyKind === "Weekly" ? 7 * 86_400_000 : 86_400_000;
        start += Math.floor((Date.now() - start) / cycle) * cycle;
      }
    }
    const seconds = (Date.now() - start) / 1000;
    if (schedule.duration !== undefined && seconds >= schedule.duration) return null;
    return periodLimit(schedule, seconds);
  }

  /** The composite limit of an EVSE (K08): its TxProfile, else its TxDefaultProfile, else the station's; capped. */
  limitAmps(evseId) {
    const evse = this.evses.get(evseId);
    const tx = evse?.transaction ? this.profileInForce(evseId, "TxProfile") : null;
    const txDefault = this.profileInForce(evseId, "TxDefaultProfile") ?? this.profileInForce(0, "TxDefaultProfile");
    const chosen = tx ?? txDefault;
    const cap = this.profileInForce(0, "ChargingStationMaxProfile");
    const limits = [chosen && this.profileLimit(chosen, evseId), cap && this.profileLimit(cap, 0)].filter(
      (limit) => limit !== null && limit !== undefined,
    );
    return limits.length ? Math.min(...limits) : null;
  }

  onGetCompositeSchedule({ duration, evseId, chargingRateUnit }) {
    if (evseId !== 0 && !this.evses.has(evseId)) return { status: "Rejected", statusInfo: { reasonCode: "UnknownEvse" } };
    const amps = this.limitAmps(evseId);
    if (amps === null) return { status: "Rejected", statusInfo: { reasonCode: "NoProfile" } };
    // Without a unit asked for, the station chooses (K08): its personality says which.
    const unit = chargingRateUnit ?? this.personality.compositeUnit;
    const limit = unit === "W" ? amps * VOLTAGE * PHASES : amps;
    return {
      status: "Accepted",
      schedule: {
        evseId,
        duration,
        scheduleStart: now(),
        chargingRateUnit: unit,
        chargingSchedulePeriod: [{ startPeriod: 0, limit: Math.round(limit * 10) / 10 }],
      },
    };
  }

  // ---- availability, unlock, reset (G, F05, B11-B12) -------------------------------------------------------

  onChangeAvailability({ operationalStatus, evse: target }) {
    const operative = operationalStatus === "Operative";
    const evses = this.targets(target?.id);
    if (evses.some((e) => e.transaction) && !operative) {
      return { status: "Scheduled" }; // G03.FR.05 (not acted on: the tests do not go there)
    }
    for (const evse of evses) evse.operative = operative;
    setImmediate(() => Promise.all(evses.map((e) => this.statusNotification(e))));
    return { status: "Accepted" };
  }

  onUnlockConnector({ evseId }) {
    if (this.evses.get(evseId)?.transaction) return { status: "OngoingAuthorizedTransaction" };
    return { status: this.evses.has(evseId) ? "Unlocked" : "UnknownConnector" };
  }

  onReset({ type, evseId }) {
    if (evseId !== undefined) return { status: "Rejected", statusInfo: { reasonCode: "NotSupported" } };
    const charging = [...this.evses.values()].some((e) => e.transaction);
    if (type === "OnIdle" && charging) {
      this.pendingReset = type; // B12.FR.01: after the transactions end
      return { status: "Scheduled" };
    }
    setImmediate(() => this.reboot(type));
    return { status: "Accepted" };
  }

  /** Reboot: end the transactions (B12.FR.02), drop the connection, connect again and boot (RemoteReset). */
  async reboot(type) {
    emit("rebooting", { type });
    for (const evse of this.evses.values()) {
      if (evse.transaction) await this.endTransaction(evse, "ResetCommand", "ImmediateReset");
    }
    await this.stop();
    this.profiles = this.profiles.filter(({ profile }) => profile.chargingProfilePurpose !== "TxProfile");
    await sleep(200);
    this.bootReason = "RemoteReset";
    await this.start();
  }
}
